#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [--filter REGEX]: everything `make check` does.
#
#  1. provision the host, fetch the target kernels
#  2. build our modules for each kernel with W=1, -Werror and sparse (the
#     lab's kernels, and Debian 13's 7.x, which the lab boots on request)
#  3. checkpatch (make lint)
#  4. host unit tests (x86 userspace)
#  5. the lab runner's own guarantees (exit status, kernel-log scan)
#  6. the lab selftests on every machine x kernel (two VMs at a time),
#     and the 7.x lane's cells in EXTRA_CELLS
#  7. the end-to-end scenario (scripts/lab/e2e.sh) on each machine of
#     E2E_MACHINES (default powernv9 and powernv8), each kernel, each
#     configuration in E2E_CONFIGS (default "a b c b+2 c+2"), in the same
#     pool
#
# One line per test, "PASS|FAIL|SKIP where/test", then the totals.
# REGEX (make check T=...) selects tests by that id.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lab/machines.sh"
. "$TOP/scripts/lib/cache.sh"
# 6.12-debug is the debug-kernel lane (Documentation/debug-kernel.rst):
# `make check-debug` runs it alone; it does not fit make check's time.
KERNELS=${KERNELS:-6.1 6.12}
# powernv9+smp2 is powernv9 with two CPUs, for the tests of races between
# a guest's hypercalls and its VMM's threads (kvm-*), which one emulated
# CPU cannot show: the racing thread never runs inside a window that has
# interrupts off (the list-page race of kvm_tce oopsed there, and only
# there, before it was fixed); and vfio-multigroup, whose MAP against a
# registration in another container oopsed there before its fix.
# powernv9+install is powernv9 booted for the install test alone: it
# needs the state of a fresh boot (no vfio, kvm_hv or group claimed
# before it), which the other tests of a boot do not leave.
# powernv9+dkms is powernv9 with a Debian ppc64el userland on a disk, for
# the Debian package test (dkms-*): DKMS builds natively under TCG, so it
# is not in the default list; `make check-dkms` runs it.
MACHINES=${MACHINES:-$LAB_MACHINES powernv9+smp2 powernv9+install}
machine_runs() {	# machine_runs MACHINE TEST: the lab variant runs it
	case $1 in
	*+smp2) [[ $2 == kvm-* || $2 == vfio-multigroup ]] ;;
	*+install) [[ $2 == install-* ]] ;;
	*+dkms) [[ $2 == dkms-* ]] ;;
	*) [[ $2 != install-* && $2 != dkms-* ]] ;;
	esac
}
# The machines a kernel runs on: the debug kernel's KASAN needs the
# radix MMU (book3s64 has no KASAN for hash), so it runs on the radix
# machines without nesting: pseries and powernv9 (and powernv9's
# variants).
DEBUG_MACHINES=${DEBUG_MACHINES:-pseries powernv9 powernv9+smp2 powernv9+install}
kernel_runs() {		# kernel_runs KERNEL MACHINE: the lane has that cell
	case $1 in
	*-debug) [[ " $DEBUG_MACHINES " == *" $2 "* ]] ;;
	*) true ;;
	esac
}
# The end-to-end scenario's kernels (a nested KVM guest on an emulated
# host): not the debug kernel by default, see debug-kernel.rst.
E2E_KERNELS=${E2E_KERNELS:-$(for k in $KERNELS; do [[ $k == *-debug ]] || echo "$k"; done)}
JOBS=${JOBS:-2}
filter=.
while [[ $# -gt 0 ]]; do
	case $1 in
	--filter) filter=$2; shift 2 ;;
	*) echo "check: unknown option '$1'" >&2; exit 2 ;;
	esac
done

RES=$BUILD/check
rm -rf "$RES"
mkdir -p "$RES"
start=$(date +%s)

wanted() { [[ $1 =~ $filter ]]; }
result() {		# result PASS|FAIL|SKIP ID [WHY]
	echo "$1 $2${3:+ ($3)}" | tee -a "$RES/results.txt"
}

bash "$TOP/scripts/provision-host.sh" || { result FAIL host/provision; exit 1; }
# The kernels our modules are built for: the lab's (KERNELS) and
# BUILD_KERNELS, Debian 13's 7.x by default: built with W=1 and sparse in
# the trixie build root, booted only when KERNELS names them (the lane's
# time: Documentation/kernels-7.rst). Fetched only when their build line
# is to run.
BUILD_KERNELS=${BUILD_KERNELS-7 7-64k}
build_kernels=$KERNELS
for k in $BUILD_KERNELS; do
	[[ " $build_kernels " != *" $k "* ]] && wanted "host/$k/build-w1-werror-sparse" &&
		build_kernels+=" $k"
done
# Cells of the 7.x lane that make check boots by default, MACHINE/KERNEL
# (the whole lane, KERNELS='7 7-64k', does not fit its time:
# kernels-7.rst): powernv9 with two CPUs on 7, for the races of kvm-* and
# vfio-multigroup under a preemptible kernel, where kvm_tce's former
# kprobe hook brought the host down. EXTRA_CELLS= boots none.
EXTRA_CELLS=${EXTRA_CELLS-powernv9+smp2/7}
extra_cells=
for c in $EXTRA_CELLS; do
	[[ " $KERNELS " == *" ${c#*/} "* ]] && continue	# a whole lane already
	extra_cells+=" $c"
	[[ " $build_kernels " != *" ${c#*/} "* ]] && build_kernels+=" ${c#*/}"
done
for k in $build_kernels; do
	bash "$TOP/scripts/fetch-kernel.sh" "$k" || { result FAIL "host/$k/fetch"; exit 1; }
	sed 's/^/# /' "$BUILD/kernels/$k/versions.txt"
done
# Debian's ppc64el QEMU, for the end-to-end scenario's emulated host.
bash "$TOP/scripts/fetch-qemu.sh" || { result FAIL host/fetch-qemu; exit 1; }
head -1 "$BUILD/qemu-ppc64el/versions.txt" | sed 's/^/# /'
# Debian's ppc64el kmod, for the install test's modprobe.
bash "$TOP/scripts/fetch-kmod.sh" || { result FAIL host/fetch-kmod; exit 1; }
head -1 "$BUILD/kmod-ppc64el/versions.txt" | sed 's/^/# /'

# 2. Builds: W=1 and sparse on every file; any warning fails.
for k in $build_kernels; do
	id=host/$k/build-w1-werror-sparse
	log=$RES/build-$k.log
	if ! wanted "$id"; then
		# The lab needs the modules even when this line is filtered out.
		make -C "$TOP" -s KERNEL="$k" modules >"$log" 2>&1 ||
			{ cat "$log"; result FAIL "$id"; }
		continue
	fi
	if make -C "$TOP" -s KERNEL="$k" W=1 C=2 WERROR=1 modules >"$log" 2>&1 &&
	   ! grep -E '(warning|error):' "$log" >/dev/null; then
		result PASS "$id"
	else
		grep -E '(warning|error):' "$log" | head -20 | sed 's/^/# /'
		result FAIL "$id" "see $log"
	fi
done

# make install, staged (INSTALL_MOD_PATH, DESTDIR) from the objects just
# built: the lab's install test puts it where it goes on a host.
for k in $KERNELS; do
	id=host/$k/make-install-stages-modules-and-modprobe-conf
	stage=$BUILD/install/$k
	rm -rf "$stage"
	rel=$(cat "$BUILD/kernels/$k/release")
	# KERNEL picks the toolchain: 7.x builds in the trixie build root.
	if make -C "$TOP" -s install KERNEL="$k" KDIR="$BUILD/kernels/$k/kdir" OBJ="$BUILD/obj/$k" \
		KARCH="ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-" \
		INSTALL_MOD_PATH="$stage" DESTDIR="$stage" >"$RES/install-$k.log" 2>&1 &&
	   [[ $(find "$stage/lib/modules/$rel/updates" -name '*.ko*' | wc -l) == 3 &&
	      -f $stage/etc/modprobe.d/spapr-tce.conf ]]; then
		wanted "$id" && result PASS "$id"
	else
		tail -5 "$RES/install-$k.log" | sed 's/^/# /'
		wanted "$id" && result FAIL "$id" "see $RES/install-$k.log"
	fi
done

# The Debian package and the userland disk its test installs it on, when
# a dkms test is to run.
dkms_img=
if [[ " $MACHINES " == *"+dkms "* ]]; then
	for k in $KERNELS; do
		wanted "powernv9+dkms/$k/dkms-" && dkms_img=wanted
	done
fi
if [[ -n $dkms_img ]]; then
	if bash "$TOP/scripts/make-deb.sh" >"$RES/deb.log" 2>&1; then
		result PASS host/deb/build-and-lintian-clean
	else
		tail -20 "$RES/deb.log" | sed 's/^/# /'
		result FAIL host/deb/build-and-lintian-clean "see $RES/deb.log"
	fi
	sed 's/^/# /' "$BUILD/deb/lintian.txt" 2>/dev/null
	dkms_img=$(bash "$TOP/scripts/fetch-dkms-root.sh" 2>"$RES/dkms-root.log") ||
		{ tail -20 "$RES/dkms-root.log" | sed 's/^/# /'; result FAIL host/fetch-dkms-root; }
	head -1 "$BUILD/dkms/versions.txt" | sed 's/^/# /'
fi

# 3. checkpatch.
if wanted host/lint/checkpatch; then
	if bash "$TOP/scripts/lint.sh" >"$RES/lint.log" 2>&1; then
		result PASS host/lint/checkpatch
	else
		tail -20 "$RES/lint.log" | sed 's/^/# /'
		result FAIL host/lint/checkpatch "see $RES/lint.log"
	fi
fi

# TAP from a file or stream -> result lines, with PREFIX before each name.
tap_results() {		# tap_results PREFIX < TAP
	awk -v p="$1" '
	/^ok [0-9]+/ || /^not ok [0-9]+/ {
		line = $0
		notok = (line ~ /^not ok/)
		sub(/^(not )?ok [0-9]+ (- )?/, "", line)
		skip = ""
		if (match(line, / # [Ss][Kk][Ii][Pp]/)) {
			skip = substr(line, RSTART + 7); line = substr(line, 1, RSTART - 1)
			sub(/^ */, "", skip)
		}
		if (notok) print "FAIL " p line
		else if (skip != "") print "SKIP " p line " (" skip ")"
		else print "PASS " p line
	}'
}

# 4. Host unit tests.
if [[ -d $TOP/tools/testing/selftests/spapr_tce/host ]] && wanted host/unit/; then
	if make -s -C "$TOP/tools/testing/selftests/spapr_tce/host" \
		BUILD="$BUILD/host" run >"$RES/host-unit.tap" 2>&1; then hrc=0; else hrc=1; fi
	tap_results host/unit/ <"$RES/host-unit.tap" | tee -a "$RES/results.txt"
	if [[ $hrc != 0 ]] && ! grep -q '^not ok' "$RES/host-unit.tap"; then
		tail -20 "$RES/host-unit.tap" | sed 's/^/# /'
		result FAIL host/unit/build-and-run
	fi
fi

# 5. The lab runner itself: the command's status comes back, and a
# trouble line in the guest's kernel log fails a successful command.
first_kernel=${KERNELS%% *}
if wanted host/lab/vm-returns-command-status; then
	"$TOP/scripts/vm" --no-build --machine pseries --kernel "$first_kernel" \
		--log "$RES/runner-status.log" -- sh -c 'exit 3' >/dev/null 2>&1
	rc=$?
	[[ $rc == 3 ]] && result PASS host/lab/vm-returns-command-status ||
		result FAIL host/lab/vm-returns-command-status "got $rc, want 3"
fi
if wanted host/lab/vm-fails-on-kernel-warning; then
	"$TOP/scripts/vm" --no-build --machine pseries --kernel "$first_kernel" \
		--log "$RES/runner-warning.log" -- \
		sh -c 'echo "WARNING: CPU: 0 PID: 1 at lab-runner-self-check" >/dev/kmsg' \
		>/dev/null 2>&1
	rc=$?
	[[ $rc == 126 ]] && result PASS host/lab/vm-fails-on-kernel-warning ||
		result FAIL host/lab/vm-fails-on-kernel-warning "got $rc, want 126"
fi

# The cached busybox every clone's lab copies is replaced whole: a reader
# copying it while a fetch installs it again, 30 times, never gets a
# part of it (in a cache of the check's own, not the host's).
if wanted host/lab/cached-busybox-replaced-whole; then
	bc=$(mktemp -d "$BUILD/busybox-check.XXXXXX")
	deb=$(compgen -G "$CACHE/debs/busybox-static_*.deb" | head -1)
	mkdir -p "$bc/ref" && dpkg -x "$deb" "$bc/ref"
	(
		CACHE=$bc/cache
		for i in $(seq 30); do cache_busybox "$deb" || exit 1; done
		touch "$bc/done"
	) &
	writer=$!
	reads=0 bad=0
	while kill -0 "$writer" 2>/dev/null; do
		cp "$bc/cache/busybox/bin/busybox" "$bc/copy" 2>/dev/null || continue
		reads=$((reads + 1))
		cmp -s "$bc/copy" "$bc/ref/bin/busybox" || bad=$((bad + 1))
	done
	wait "$writer"
	if [[ -e $bc/done && $reads -gt 0 && $bad == 0 ]]; then
		result PASS host/lab/cached-busybox-replaced-whole
	else
		result FAIL host/lab/cached-busybox-replaced-whole \
			"$bad of $reads copies differ from the package's busybox, or an install failed"
	fi
	rm -rf "$bc"
fi

# A boot whose kernel log wrapped fails too: a report in its lost start
# went unseen. 400K of messages (lines under 6.1's 992-byte limit), once
# into the kernel's own 128K ring buffer, which must fail for that reason,
# and once into the lab's, which must not.
LOG_FILL='i=0; l=xxxxxxxxxx; l=$l$l$l$l$l$l$l$l$l$l; l=$l$l$l$l$l
	while [ $i -lt 800 ]; do echo "lab-fill $i $l" >/dev/kmsg; i=$((i + 1)); done'
if wanted host/lab/vm-fails-on-wrapped-kernel-log; then
	LAB_LOG_BUF= "$TOP/scripts/vm" --no-build --machine pseries --kernel "$first_kernel" \
		--log "$RES/runner-wrapped.log" -- sh -c "$LOG_FILL" >/dev/null 2>"$RES/runner-wrapped.err"
	rc=$?
	if [[ $rc == 126 ]] && grep -q 'lost its start' "$RES/runner-wrapped.err"; then
		result PASS host/lab/vm-fails-on-wrapped-kernel-log
	else
		result FAIL host/lab/vm-fails-on-wrapped-kernel-log "got $rc, want 126 for a lost start"
	fi
fi
if wanted host/lab/vm-keeps-the-whole-kernel-log; then
	"$TOP/scripts/vm" --no-build --machine pseries --kernel "$first_kernel" \
		--log "$RES/runner-whole-log.log" -- sh -c "$LOG_FILL" >/dev/null 2>&1
	rc=$?
	if [[ $rc == 0 ]] && grep -aq 'lab-fill 0 ' "$RES/runner-whole-log.log"; then
		result PASS host/lab/vm-keeps-the-whole-kernel-log
	else
		result FAIL host/lab/vm-keeps-the-whole-kernel-log "got $rc, want 0 and the first line kept"
	fi
fi

# The failure digest at the end of the output: a failing case's own
# lines, and a boot's kernel report, from a lab run's real console log;
# a passing case's lines stay out.
if wanted host/lab/fail-digest-shows-what-failed; then
	fd=$RES/fail-digest-self-check
	mkdir -p "$fd"
	printf '%s\n' "FAIL pseries/$first_kernel/t.bad_case" "PASS pseries/$first_kernel/t.good_case" \
		"FAIL pseries/$first_kernel/kernel-log-clean (log)" \
		"FAIL host/lint/checkpatch (see $fd/lint.log)" >"$fd/results.txt"
	printf '%s\n' "total: 0 errors" "t.c:1: ERROR:ASSIGN_IN_IF: lint-line" >"$fd/lint.log"
	printf '%s\n' "ok 1 good_case" "# good-case-line" "not ok 2 bad_case" \
		"# seed 7: bad-case-line" "ok 3 next_case" "# next-case-line" >"$fd/tap.pseries.$first_kernel.t"
	cp "$RES/runner-warning.log" "$fd/lab-pseries-$first_kernel.log" 2>/dev/null ||
		echo "[    1.0] WARNING: CPU: 0 PID: 1 at lab-runner-self-check" >"$fd/lab-pseries-$first_kernel.log"
	got=$(bash "$TOP/scripts/lab/fail-digest.sh" "$fd")
	if grep -q 'seed 7: bad-case-line' <<<"$got" &&
	   grep -q 'WARNING: CPU: 0 PID: 1 at lab-runner-self-check' <<<"$got" &&
	   grep -q 'ERROR:ASSIGN_IN_IF: lint-line' <<<"$got" &&
	   ! grep -q 'good-case-line\|next-case-line' <<<"$got"; then
		result PASS host/lab/fail-digest-shows-what-failed
	else
		result FAIL host/lab/fail-digest-shows-what-failed "got: $(tr '\n' '|' <<<"$got")"
	fi
fi

# The debug kernel's reports, each as its kernel prints its first line
# (6.12's mm/kasan/report.c, kernel/locking/lockdep.c, kernel/sched/core.c,
# lib/list_debug.c, lib/debugobjects.c, mm/kmemleak.c), written into one
# boot's log: the runner's scan must catch every one of them.
BAD_SAMPLES=(
	"kasan|BUG: KASAN: slab-use-after-free in lab_self_check+0x0/0x10"
	"circular-locking|WARNING: possible circular locking dependency detected"
	"recursive-locking|WARNING: possible recursive locking detected"
	"inconsistent-lock-state|WARNING: inconsistent lock state"
	"irq-lock-inversion|WARNING: possible irq lock inversion dependency detected"
	"irq-safe-unsafe|WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected"
	"bad-unlock-balance|WARNING: bad unlock balance detected!"
	"held-lock-freed|WARNING: held lock freed!"
	"lock-held-returning|WARNING: lock held when returning to user space!"
	"suspicious-rcu|WARNING: suspicious RCU usage"
	"sleep-in-atomic|BUG: sleeping function called from invalid context at lab.c:1"
	"scheduling-while-atomic|BUG: scheduling while atomic: lab/1/0x00000002"
	"list-corruption|list_add corruption. prev->next should be next (c0), but was c1. (prev=c2)."
	"debugobjects|ODEBUG: free active (active state 0) object: c0 object type: timer_list hint: lab"
	"kmemleak|kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"
	"non-static-key|INFO: trying to register non-static key."
)
if wanted host/lab/vm-fails-on-debug-report; then
	cmd=
	for smp in "${BAD_SAMPLES[@]}"; do
		cmd+="echo '${smp#*|} lab-bad-log-${smp%%|*}' >/dev/kmsg; "
	done
	"$TOP/scripts/vm" --no-build --machine pseries --kernel "$first_kernel" \
		--log "$RES/runner-debug-reports.log" -- sh -c "$cmd" >/dev/null 2>&1
	rc=$?
	caught=$(grep -aE "$LAB_BAD_LOG" "$RES/runner-debug-reports.log")
	for smp in "${BAD_SAMPLES[@]}"; do
		id=host/lab/vm-fails-on-debug-report.${smp%%|*}
		wanted "$id" || continue
		if [[ $rc == 126 ]] && grep -q "lab-bad-log-${smp%%|*}\$" <<<"$caught"; then
			result PASS "$id"
		else
			result FAIL "$id" "vm status $rc, want 126 and the line caught"
		fi
	done
fi

# 6. The lab selftests: kselftests, built and installed with the kernel's
# lib.mk (tools/testing/selftests/Makefile), run in the guest from that
# installed tree by the kernel's run_kselftest.sh (run-selftests).
KSFT=$BUILD/kselftest/install
bash "$TOP/scripts/build-kselftests.sh" >"$RES/selftests-build.log" 2>&1 ||
	{ cat "$RES/selftests-build.log"; result FAIL host/selftests-build; }
tests=$(sed -n 's/^spapr_tce://p' "$KSFT/kselftest-list.txt" 2>/dev/null | sort)

# ksft_unnest TAP RC: run_kselftest.sh's KTAP for one test -> the test's
# own TAP (the lines the runner prefixed with "# ") in TAP, and the
# runner's verdict on it as an exit status in RC: its "ok N selftests:
# spapr_tce: NAME" line (0), "# exit=N" (N), "# TIMEOUT" (124).
ksft_unnest() {
	awk -v rcf="$2" '
	/^(not )?ok [0-9]+ selftests: / {
		rc = 0
		if ($1 == "not") rc = match($0, /# TIMEOUT/) ? 124 : 1
		if (match($0, /# exit=[0-9]+/)) rc = substr($0, RSTART + 7, RLENGTH - 7)
		next
	}
	/^# / { print substr($0, 3); next }
	END { if (rc != "") print rc >rcf }' "$1" >"$1.inner"
	mv "$1.inner" "$1"
}

# lab_one MACHINE KERNEL TESTS...: one boot; its results into a file.
lab_one() {
	local m=$1 k=$2 out=$RES/lab-$1-$2.txt log=$RES/lab-$1-$2.log rc
	shift 2
	local extra=() rel
	# The install test's kmod (its libraries and loader where the
	# binary looks for them) and make install's staged tree.
	if [[ " $* " == *" install-"* ]]; then
		rel=$(cat "$BUILD/kernels/$k/release")
		extra=(--add "$BUILD/kmod-ppc64el/root/bin/kmod:/lab/kmod/kmod"
			--add "$BUILD/kmod-ppc64el/root/lib:/lib"
			--add "$BUILD/kmod-ppc64el/root/lib64:/lib64"
			--add "$BUILD/kmod-ppc64el/root/usr:/usr"
			--add "$BUILD/install/$k/lib/modules/$rel/updates:/lab/install/updates"
			--add "$BUILD/install/$k/etc/modprobe.d/spapr-tce.conf:/lab/install/spapr-tce.conf")
	fi
	# The package test's userland disk (a snapshot: the cached image is
	# never written) and the package.
	local to=1500
	if [[ $m == *+dkms ]]; then
		to=7200
		local deb
		deb=$(compgen -G "$BUILD/deb/spapr-tce-dkms_*_all.deb" | head -1)
		extra=(--add "$deb:/lab/dkms/${deb##*/}"
			--qemu -drive --qemu "file=$dkms_img,format=raw,if=none,id=dkmsroot,snapshot=on"
			--qemu -device --qemu "virtio-blk-pci,drive=dkmsroot,bus=pcie.5,serial=spapr-dkms")
		# The kernel upgrade case (a second native build) on request.
		if [[ ${DKMS_UPGRADE:-} == 1 && $k == "${KERNELS%% *}" ]]; then
			echo "$k" >"$RES/dkms-upgrade"
			extra+=(--add "$RES/dkms-upgrade:/lab/dkms/upgrade")
		fi
	fi
	[[ $m == *+smp2 ]] && extra+=(--qemu -smp --qemu 2)
	"$TOP/scripts/vm" --no-build --machine "${m%%+*}" --kernel "$k" \
		--timeout $((to * $(lab_time_scale "$k"))) \
		--log "$log" --add "$KSFT:/lab/kselftest" "${extra[@]}" \
		-- run-selftests "$@" >/dev/null 2>"$RES/lab-$m-$k.err"
	rc=$?
	{
		touch "$log"
		awk '/^LAB-TEST-BEGIN /{t=$2; print "@@BEGIN " t; next}
		     # skiboot writes to the same console, now and then on
		     # the end of this line ("0[  121.18,3] SBE: Timer
		     # stuck"): the status is the number it starts with.
		     /^LAB-TEST-END /{rc = $3; if (match(rc, /^[0-9]+/)) rc = substr(rc, 1, RLENGTH)
			print "@@END " $2 " " rc; t=""; next}
		     t != "" {print}' "$log" |
		while IFS= read -r line; do
			case $line in
			"@@BEGIN "*) cur=${line#@@BEGIN }; : >"$RES/tap.$m.$k.$cur" ;;
			"@@END "*) set -- ${line#@@END }; echo "$2" >"$RES/rc.$m.$k.$1" ;;
			*) echo "$line" >>"$RES/tap.$m.$k.$cur" ;;
			esac
		done
		for t in "$@"; do
			local tap=$RES/tap.$m.$k.$t
			if [[ ! -f $tap ]]; then
				echo "FAIL $m/$k/$t (did not run)"
				continue
			fi
			# The runner's verdict stands for the LAB-TEST-END
			# status, unless the runner itself was stopped.
			if grep -q '^# selftests: spapr_tce: ' "$tap"; then
				ksft_unnest "$tap" "$RES/ksft-rc.$m.$k.$t"
				[[ -f $RES/ksft-rc.$m.$k.$t && $(cat "$RES/rc.$m.$k.$t" 2>/dev/null) == 0 ]] &&
					cp "$RES/ksft-rc.$m.$k.$t" "$RES/rc.$m.$k.$t"
			fi
			tap_results "$m/$k/$t." <"$tap"
			local trc plan n
			trc=$(cat "$RES/rc.$m.$k.$t" 2>/dev/null || echo none)
			plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$tap" | head -1)
			n=$(grep -cE '^(not )?ok [0-9]+' "$tap")
			if [[ $trc == none ]]; then
				echo "FAIL $m/$k/$t (did not finish)"
			elif [[ $trc != 0 ]] && ! grep -q '^not ok' "$tap"; then
				echo "FAIL $m/$k/$t (exit status $trc)"
			elif [[ -n $plan && $plan != "$n" ]]; then
				echo "FAIL $m/$k/$t (planned $plan cases, ran $n)"
			fi
		done
		# The boot's closing kmemleak scan (run-selftests), which a
		# debug kernel must report.
		if [[ -f $RES/tap.$m.$k.kmemleak ]]; then
			tap_results "$m/$k/kmemleak." <"$RES/tap.$m.$k.kmemleak"
			grep -q '^ok ' "$RES/tap.$m.$k.kmemleak" ||
				grep -q '^not ok ' "$RES/tap.$m.$k.kmemleak" ||
				echo "FAIL $m/$k/kmemleak (no answer)"
		elif [[ $k == *-debug ]]; then
			echo "FAIL $m/$k/kmemleak (the boot made no kmemleak scan)"
		fi
		# 0 and 1 are run-selftests' own answers, and only count when
		# the guest said the same; anything else is the runner's.
		if [[ $rc == [01] ]] && ! grep -qax "LAB-EXIT: $rc" "$log"; then
			rc="$rc-without-guest-exit"
		fi
		case $rc in
		0|1)	# 1: a test failed, and the runner judged no log
			if [[ -n $(lab_log_trouble "$log") ]]; then
				echo "FAIL $m/$k/kernel-log-clean (log $log)"
			else
				echo "PASS $m/$k/kernel-log-clean"
			fi ;;
		124) echo "FAIL $m/$k/vm (timeout, log $log)" ;;
		125) echo "FAIL $m/$k/vm (guest died, log $log)" ;;
		126) echo "FAIL $m/$k/kernel-log-clean (log $log)" ;;
		*) echo "FAIL $m/$k/vm (runner exit status $rc, see $RES/lab-$m-$k.err)" ;;
		esac
	} >"$out"
}

# lab_e2e MACHINE KERNEL CONFIG[+2]: one run of the end-to-end scenario
# (+2: with two devices in one container); its facts (TAP) into a file,
# as MACHINE/KERNEL/e2e-CONFIG[+2].fact.
lab_e2e() {
	local m=$1 k=$2 c=$3 id=$1/$2/e2e-$3 base=$RES/e2e-$1-$2-$3 rc n=1
	[[ $c == *+2 ]] && n=2
	"$TOP/scripts/lab/e2e.sh" --no-build --machine "$m" --kernel "$k" \
		--config "${c%+2}" --devices "$n" --tap --out "$RES/e2e" \
		>"$base.tap" 2>"$base.err"
	rc=$?
	{
		tap_results "$id." <"$base.tap"
		if [[ $rc != 0 ]] && ! grep -q '^not ok' "$base.tap"; then
			echo "FAIL $id (exit status $rc, see $base.err)"
		fi
	} >"$base.txt"
}
# b+2 and c+2: b and c with two NVMe controllers, each in a group of its
# own, in one container (the stock and our multi-group paths).
E2E_CONFIGS=${E2E_CONFIGS:-a b c b+2 c+2}
# The hosts of the end-to-end scenario: the powernv machines.
E2E_MACHINES=${E2E_MACHINES:-powernv9 powernv8}

running=0
lab_cell() {		# lab_cell MACHINE KERNEL: its wanted tests, in the pool
	local m=$1 k=$2 t sel=()
	for t in $tests; do
		wanted "$m/$k/$t" && machine_runs "$m" "$t" && sel+=("$t")
	done
	[[ ${#sel[@]} -gt 0 ]] || return 0
	if [[ $running -ge $JOBS ]]; then
		wait -n
		running=$((running - 1))
	fi
	lab_one "$m" "$k" "${sel[@]}" &
	running=$((running + 1))
}
for k in $KERNELS; do
	for m in $MACHINES; do
		kernel_runs "$k" "$m" && lab_cell "$m" "$k"
	done
done
for c in $extra_cells; do
	lab_cell "${c%%/*}" "${c#*/}"
done
for k in $E2E_KERNELS; do
	for m in $E2E_MACHINES; do
		for c in $E2E_CONFIGS; do
			if [[ " $MACHINES " != *" $m "* ]] || ! wanted "$m/$k/e2e-$c."; then
				continue
			fi
			if [[ $running -ge $JOBS ]]; then
				wait -n
				running=$((running - 1))
			fi
			lab_e2e "$m" "$k" "$c" &
			running=$((running + 1))
		done
	done
done
wait
for c in $extra_cells; do
	f=$RES/lab-${c%%/*}-${c#*/}.txt
	[[ -f $f ]] && tee -a "$RES/results.txt" <"$f"
done
for k in $KERNELS; do
	for m in $MACHINES; do
		f=$RES/lab-$m-$k.txt
		[[ -f $f ]] && tee -a "$RES/results.txt" <"$f"
	done
	for m in $E2E_MACHINES; do
		for c in $E2E_CONFIGS; do
			f=$RES/e2e-$m-$k-$c.txt
			[[ -f $f ]] && tee -a "$RES/results.txt" <"$f"
		done
	done
done

touch "$RES/results.txt"
p=$(grep -c '^PASS ' "$RES/results.txt")
f=$(grep -c '^FAIL ' "$RES/results.txt")
s=$(grep -c '^SKIP ' "$RES/results.txt")
bash "$TOP/scripts/lab/fail-digest.sh" "$RES"
echo "# check took $(( $(date +%s) - start ))s"
echo "$p passed, $f failed, $s skipped"
[[ $f -eq 0 && $((p + s)) -gt 0 ]]
