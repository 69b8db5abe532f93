#!/bin/sh
# Entrypoint of the production image: sets gunicorn's worker count, then runs the command.
#
# The design's rule is 3 gunicorn workers per CPU core. gunicorn reads WEB_CONCURRENCY itself,
# so when it is unset (or empty) it is set here from the cores this container may use: nproc
# (CPU affinity / cpuset), lowered to a CPU quota such as `docker run --cpus` (cgroup v2).
set -eu

if [ -z "${WEB_CONCURRENCY:-}" ]; then
    cpus=$(nproc)
    if [ -r /sys/fs/cgroup/cpu.max ]; then
        read -r quota period < /sys/fs/cgroup/cpu.max || true
        if [ "${quota:-max}" != "max" ] && [ "${period:-0}" -gt 0 ]; then
            limit=$(( (quota + period - 1) / period ))
            if [ "$limit" -lt "$cpus" ]; then
                cpus=$limit
            fi
        fi
    fi
    WEB_CONCURRENCY=$((3 * cpus))
fi

case "$WEB_CONCURRENCY" in
    '' | *[!0-9]*)
        echo "WEB_CONCURRENCY must be a whole number of gunicorn workers, not '$WEB_CONCURRENCY'." >&2
        exit 64
        ;;
esac
if [ "$WEB_CONCURRENCY" -lt 1 ]; then
    echo "WEB_CONCURRENCY must be at least 1, not $WEB_CONCURRENCY." >&2
    exit 64
fi
export WEB_CONCURRENCY

exec "$@"
