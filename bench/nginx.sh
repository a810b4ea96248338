# Sourced by the bench scripts: installs what is missing from Debian and
# starts the shared target, one nginx worker answering `return 200` on
# 127.0.0.1:18080 (bench/nginx.conf), stopped when the script exits.
#
#   ensure_apt PACKAGE COMMAND...   install PACKAGE unless COMMAND exists
#   start_nginx                     start it; sets $work, a scratch folder

ensure_apt() {
    local package="$1"
    shift
    for command in "$@"; do
        command -v "$command" >/dev/null 2>&1 || [ -x "$command" ] || {
            apt-get update -qq && apt-get install -y -qq "$package" >/dev/null
            return
        }
    done
}

start_nginx() {
    ensure_apt nginx-light /usr/sbin/nginx
    work="$(mktemp -d)"
    trap stop_nginx EXIT
    /usr/sbin/nginx -p "$work" -c "$PWD/bench/nginx.conf"
    sleep 0.5
}

stop_nginx() {
    if [ -f "$work/nginx.pid" ]; then
        local pid
        pid="$(cat "$work/nginx.pid")"
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -rf "$work"
}
