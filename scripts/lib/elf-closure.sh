# SPDX-License-Identifier: GPL-2.0
#
# elf_closure STAGE ROOT BIN...: copy into ROOT, from the unpacked packages
# in STAGE, every shared library the ppc64el binaries BIN (paths relative
# to STAGE, already copied to ROOT) need, breadth first by their DT_NEEDED
# entries, and the dynamic loader they ask for. Links are kept with the
# files they point to, so the sonames resolve inside ROOT.

# elf_libpath STAGE NAME: where the unpacked tree has the library NAME.
elf_libpath() {
	local d
	for d in lib/powerpc64le-linux-gnu usr/lib/powerpc64le-linux-gnu lib64 usr/lib; do
		[[ -e $1/$d/$2 ]] && { echo "$d/$2"; return 0; }
	done
	return 1
}

# elf_copy_link STAGE ROOT PATH: PATH, and its target if it is a link.
elf_copy_link() {
	local t
	mkdir -p "$2/$(dirname "$3")"
	cp -a "$1/$3" "$2/$3"
	if [[ -L $1/$3 ]]; then
		t=$(readlink "$1/$3")
		[[ $t == /* ]] || t=$(dirname "$3")/$t
		mkdir -p "$2/$(dirname "$t")"
		cp -a "$1/$t" "$2/$t"
	fi
}

elf_closure() {
	local stage=$1 root=$2 f need p interp
	shift 2
	local queue=("$@")
	declare -A seen=()
	while [[ ${#queue[@]} -gt 0 ]]; do
		f=${queue[0]}
		queue=("${queue[@]:1}")
		for need in $(powerpc64le-linux-gnu-readelf -d "$stage/$f" |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			[[ -n ${seen[$need]:-} ]] && continue
			seen[$need]=1
			p=$(elf_libpath "$stage" "$need") || {
				echo "elf_closure: $need (needed by $f) is not in the closure" >&2
				return 1
			}
			elf_copy_link "$stage" "$root" "$p"
			queue+=("$p")
		done
	done
	interp=$(powerpc64le-linux-gnu-readelf -l "$stage/$1" |
		sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	elf_copy_link "$stage" "$root" "${interp#/}"
}
