# Prerequisite checks and installs for scripts/test (sourced). Each check returns non-zero and
# sets PREREQ_WHY when the prerequisite is missing and cannot be installed.

APT_UPDATED=${APT_UPDATED:-false}

is_root() { [ "$(id -u)" = 0 ]; }

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || { PREREQ_WHY="command '$1' not found"; return 1; }
}

need_file() {
    [ -x "$1" ] || { PREREQ_WHY="$1 missing or not executable"; return 1; }
}

need_root() {
    is_root || { PREREQ_WHY="needs root (uid is $(id -u))"; return 1; }
}

need_netns() {
    ip netns list >/dev/null 2>&1 || { PREREQ_WHY="'ip netns' does not work here"; return 1; }
}

need_nightly() {
    rustup run nightly rustc --version >/dev/null 2>&1 || { PREREQ_WHY="no nightly toolchain (rustup toolchain install nightly)"; return 1; }
}

apt_update_once() {
    if [ "$APT_UPDATED" != true ]; then
        echo "prereqs: apt-get update"
        apt-get update -qq >/dev/null 2>&1 || return 1
        APT_UPDATED=true
    fi
}

# ensure_apt CMD:PACKAGE ...: installs PACKAGE when CMD is not on PATH (root only).
ensure_apt() {
    local pair cmd pkg missing=()
    for pair in "$@"; do
        cmd=${pair%%:*}
        pkg=${pair#*:}
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root; then
        PREREQ_WHY="missing packages ${missing[*]} and not root to install them"
        return 1
    fi
    apt_update_once || { PREREQ_WHY="apt-get update failed"; return 1; }
    echo "prereqs: apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        { PREREQ_WHY="apt-get install ${missing[*]} failed"; return 1; }
}

# ensure_cargo_tool BINARY CRATE: cargo install --locked CRATE when BINARY is missing (cargo-deny
# for lint, cargo-fuzz for fuzz-smoke, cargo-deb for package).
ensure_cargo_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "prereqs: cargo install --locked $2 (takes a few minutes once)"
    cargo install --locked --quiet "$2" || { PREREQ_WHY="cargo install $2 failed"; return 1; }
    command -v "$1" >/dev/null 2>&1 || { PREREQ_WHY="$1 not on PATH after install (is ~/.cargo/bin on PATH?)"; return 1; }
}
