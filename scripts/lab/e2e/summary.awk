# SPDX-License-Identifier: GPL-2.0
#
# summary.awk: the end-to-end scenario's verdict, from the console log
# that scripts/lab/e2e.sh stamped with this host's clock ("SECONDS line"
# per line) and the facts e2e.sh gives in the environment (E2E_*).
# Prints the summary, or TAP with the summary as comments (E2E_TAP=1);
# exits non-zero when a fact does not hold.

function say(s) { out[++nout] = s }
function fact(ok, name, why) {
	nfact++
	facts[nfact] = (ok ? "ok " : "not ok ") nfact " " name \
		(ok || why == "" ? "" : "\n# " why)
	if (!ok) failed++
}
function skip(name, why) {
	nfact++
	facts[nfact] = "ok " nfact " " name " # SKIP " why
}
function secs(a, b) { return (a == "" || b == "") ? "?" : sprintf("%.1fs", b - a) }
# count(TAG, NAME): a counter at one snapshot (0 when absent).
function count(tag, name) { return ((tag, name) in cnt) ? cnt[tag, name] + 0 : 0 }
function delta(a, b, name) { return count(b, name) - count(a, name) }
# tce(A, B, WHERE): "H_PUT_TCE n, ..." between snapshots A and B, for the
# kernel's counts (WHERE "kvm") or QEMU's (WHERE "qemu"); sets tce_sum.
function tce(a, b, where,    i, s, n) {
	s = ""; tce_sum = 0
	for (i = 1; i <= 4; i++) {
		n = delta(a, b, where == "kvm" ? "kvm_" hnum[i] "_" LIOBN : "qemu_" qev[i])
		tce_sum += n
		s = s (s == "" ? "" : ", ") hname[i] " " n
	}
	return s
}

BEGIN {
	LIOBN = "2147483904"	# 0x80000100: the PHB of L2's vfio-pci (index 1)
	split("32 316 312 28", hnum, " ")	# 0x20 0x13c 0x138 0x1c
	split("H_PUT_TCE H_PUT_TCE_INDIRECT H_STUFF_TCE H_GET_TCE", hname, " ")
	split("spapr_iommu_pci_put spapr_iommu_pci_indirect spapr_iommu_pci_stuff spapr_iommu_pci_get", qev, " ")
	desc["a"] = "TCE hcalls served by QEMU in userspace"
	desc["b"] = "stock: in-kernel KVM TCE tables, in-tree vfio_iommu_spapr_tce"
	desc["c"] = "ours: vfio_spapr container (+ kvm_tce when loaded)"
	cfg = ENVIRON["E2E_CONFIG"]
	BAD = ENVIRON["E2E_BAD"]
	# e2e-l1's ioctl_<cmd> counters, cmd in decimal (0x20003b71, 0x20003b72)
	MAP_DMA = "ioctl_536886129"; UNMAP_DMA = "ioctl_536886130"
	# VFIO_SET_IOMMU (0x20003b66), VFIO_GROUP_SET_CONTAINER (0x20003b68)
	SET_IOMMU = "ioctl_536886118"; SET_CONTAINER = "ioctl_536886120"
	devices = ENVIRON["E2E_DEVICES"] + 0
}

{
	t = $1
	if (first == "") first = t
	last = t
	line = substr($0, length($1) + 2)
}
line ~ /^LAB-START / { t_l1 = t }
line ~ /^LAB-EXIT: / { labrc = $3 }
line ~ /^E2E-FACT / {
	v = line; sub(/^E2E-FACT [a-z0-9_]+ /, "", v); f[$3] = v
}
line ~ /^E2E-COUNT / {
	for (i = 4; i <= NF; i++) {
		split($i, kv, "="); cnt[$3, kv[1]] = kv[2]
	}
}
line ~ /^E2E-L2-START/ { t_l2start = t }
line ~ /^E2E-L2-STOP/ { t_l2stop = t }
line ~ /^L2\| E2E-L2-UP / { t_l2up = t; l2rel = $4 }
line ~ /^L2\| E2E-L2-NVME / { t_nvme = t; bytes = $5; sub(/bytes=/, "", bytes) }
line ~ /^L2\| E2E-L2-READ-BEGIN/ { t_rb = t }
line ~ /^L2\| E2E-L2-READ-END/ { t_re = t; sha = $4; sub(/sha256=/, "", sha) }
line ~ /^L2\| E2E-L2-WRITE-BEGIN/ { t_wb = t }
line ~ /^L2\| E2E-L2-WRITE-END/ {
	t_we = t; w_want = $4; w_got = $5; sub(/want=/, "", w_want); sub(/got=/, "", w_got)
}
line ~ /^L2\| E2E-L2-READ2-END/ { sha2 = $5; sub(/sha256=/, "", sha2) }
line ~ /^L2\| E2E-L2-FAIL/ { l2fail = line }
line ~ /^L2\| E2E-L2-RECOVER / {
	l2rec = substr(line, 5); split(line, rw, /[ =]/); rec_done = rw[6]; rec_mib = rw[8]
}
line ~ /^L2\| E2E-L2-MSIX / { l2msix = substr(line, 17); msix_per_device = (line ~ /domain=per-device/) }
line ~ /^L2\| E2E-L2-EEHLOG .*Finished:'slot_reset' with aggregate recovery state:'recovered'/ { slot_recovered = 1 }
line ~ /^L2\| E2E-L2-EEH / {
	l2eeh = substr(line, 16); split(line, ew, /[ =]/); eeh_on = ew[4]; eeh_pe = ew[6]
}
line ~ BAD {
	nbad++
	if (line ~ /WARNING: .* kvm_spapr_tce_release_vfio_group/) stock_warn++
	if (line ~ /WARNING: .* pnv_pci_ioda2_release_pe_dma/) stock_pe_warn++
}
line ~ /^QEMU\| qemu-system-ppc64: / && line !~ /warning/ { qemu_err = qemu_err (qemu_err == "" ? "" : "; ") substr(line, 7) }

END {
	want = ENVIRON["E2E_WANT"]
	start = ENVIRON["E2E_START"]
	say(sprintf("e2e: config %s (%s), Debian kernel %s", cfg, desc[cfg], ENVIRON["E2E_KERNEL"]))
	say("  L0: this host, QEMU TCG -M " ENVIRON["E2E_MACHINE"] " + NVMe controller (image of " \
		sprintf("%d", bytes / 1048576) " MiB, sha256 " substr(want, 1, 16) "...)")
	say("  L1: " (f["l1_nvme"] == "" ? "?" : "NVMe " f["l1_nvme"]) \
		", IOMMU group " f["l1_vfio_group"] "; container driver " f["container_driver"] \
		(f["vfio_enablement"] == "" ? "" : "; VFIO enablement: " f["vfio_enablement"]) \
		(f["kvm_tce"] == "" ? "" : "; kvm_tce " f["kvm_tce"]))
	say("  L2: " f["l2_qemu"] ", -M pseries -accel kvm (KVM-HV), VOF, kernel " l2rel)
	if (f["error"] != "") say("  L1 error: " f["error"])
	if (qemu_err != "") say("  QEMU (L1): " qemu_err)
	if (l2fail != "") say("  L2: " substr(l2fail, 5))

	say("  checksum: L2 read " (sha == "" ? "nothing" : substr(sha, 1, 16) "...") \
		", host " substr(want, 1, 16) "...: " (sha == want ? "MATCH" : "DIFFERENT"))
	want2 = ENVIRON["E2E_WANT2"]
	if (devices == 2)
		say("  second controller: L2 read " (sha2 == "" ? "nothing" : substr(sha2, 1, 16) "...") \
			", host " substr(want2, 1, 16) "...: " (sha2 == want2 ? "MATCH" : "DIFFERENT") \
			"; L1's QEMU: VFIO_GROUP_SET_CONTAINER " delta("qemu-start", "qemu-exit", SET_CONTAINER) \
			", VFIO_SET_IOMMU " delta("qemu-start", "qemu-exit", SET_IOMMU))
	rmb = (t_rb != "" && t_re != "" && t_re > t_rb) ? bytes / 1e6 / (t_re - t_rb) : 0
	say("  times on this host's clock: L1 boot " secs(start, t_l1) \
		", L2 QEMU start to L2 /init " secs(t_l2start, t_l2up) \
		", nvme probe " secs(t_l2up, t_nvme) ", read " secs(t_rb, t_re) \
		", write+read-back 1 MiB " secs(t_wb, t_we) ", L2 run " secs(t_l2start, t_l2stop) \
		", whole run " secs(start, last))
	say(sprintf("  L2 read throughput: %.2f MB/s (%d bytes, O_DIRECT, 1 MiB requests)", rmb, bytes))
	say("  TCE hcalls of L2 on the VFIO PHB (LIOBN 0x80000100), during the read:")
	k = tce("read-begin", "read-end", "kvm"); kr = tce_sum
	say("    entered KVM:       " k)
	u = tce("read-begin", "read-end", "qemu"); ur = tce_sum
	say("    served by QEMU:    " u)
	say("    served in kernel:  " kr - ur " of " kr)
	k = tce("qemu-start", "qemu-exit", "kvm"); kt = tce_sum
	u = tce("qemu-start", "qemu-exit", "qemu"); ut = tce_sum
	say("  whole L2 run: entered KVM " kt ", served by QEMU " ut ", in kernel " kt - ut \
		"; exits to QEMU: PAPR hcall " delta("qemu-start", "qemu-exit", "exit_19") \
		", MMIO " delta("qemu-start", "qemu-exit", "exit_6") \
		"; VFIO_IOMMU_MAP_DMA ioctls " delta("qemu-start", "qemu-exit", MAP_DMA) \
		", UNMAP_DMA " delta("qemu-start", "qemu-exit", UNMAP_DMA))
	if (("qemu-exit", "kt_fallback") in cnt)
		say("  kvm_tce during the read: handled put " delta("read-begin", "read-end", "kt_handled_put_tce") \
			", indirect " delta("read-begin", "read-end", "kt_handled_put_tce_indirect") \
			", stuff " delta("read-begin", "read-end", "kt_handled_stuff_tce") \
			", fell back " delta("read-begin", "read-end", "kt_fallback") \
			"; hardware TCEs set " delta("read-begin", "read-end", "kt_hw_tces_set") \
			", cleared " delta("read-begin", "read-end", "kt_hw_tces_cleared"))
	if (("qemu-exit", "vs_maps") in cnt)
		say("  vfio_spapr: maps " count("qemu-exit", "vs_maps") ", unmaps " count("qemu-exit", "vs_unmaps") \
			", TCEs set " count("qemu-exit", "vs_tces_set") ", cleared " count("qemu-exit", "vs_tces_cleared"))

	fact(f["l1_vfio_group"] != "", "l1_nvme_bound_to_vfio_pci", f["error"])
	fact(t_l2up != "", "l2_booted_under_kvm_hv", qemu_err)
	fact(bytes > 0, "l2_nvme_probed", l2fail)
	fact(sha == want, "l2_read_sha256_equals_host", "L2 " sha " host " want)
	fact(w_want != "" && w_want == w_got && w_want == ENVIRON["E2E_PATTERN"],
		"l2_write_read_back_equal", "want " w_want " got " w_got)
	fact(ENVIRON["E2E_HOST_TAIL"] == ENVIRON["E2E_PATTERN"], "host_image_holds_l2_write",
		"image tail " ENVIRON["E2E_HOST_TAIL"])
	fact(kr > 0 || ur > 0, "l2_read_dma_mapped_by_tce_hcalls", "no TCE hcall on LIOBN 0x80000100 during the read")
	# Two controllers, two IOMMU groups in L1, one PHB in L2: QEMU joins
	# the second group to the first's container (one SET_IOMMU), and the
	# one TCE table serves both devices' DMA.
	if (devices == 2) {
		fact(f["l1_vfio_groups"] == 2, "l1_two_controllers_in_two_iommu_groups",
			"groups: " f["l1_vfio_group"])
		fact(delta("qemu-start", "qemu-exit", SET_CONTAINER) == 2 &&
			delta("qemu-start", "qemu-exit", SET_IOMMU) == 1, "two_groups_share_one_container",
			"VFIO_GROUP_SET_CONTAINER " delta("qemu-start", "qemu-exit", SET_CONTAINER) \
			", VFIO_SET_IOMMU " delta("qemu-start", "qemu-exit", SET_IOMMU) ", want 2 and 1")
		fact(sha2 == want2, "l2_second_device_read_sha256_equals_host", "L2 " sha2 " host " want2)
		fact(ENVIRON["E2E_HOST2"] == want2, "host_second_image_unchanged",
			"image " ENVIRON["E2E_HOST2"] " want " want2)
		# L1 removed the second controller while L2 used it (e2e-l1):
		# the removal waited for QEMU, L2 read it meanwhile (above),
		# it completed when QEMU exited, and it came back.
		fact(f["l1_removal_waits_while_l2_runs"] == "yes", "l1_removal_of_second_waits_while_l2_runs",
			"the removal was not pending when L2 had read both")
		fact(f["l1_removal_completed_after_qemu_exit"] != "", "l1_removal_completes_after_qemu_exit",
			"the device was still there 60 s after QEMU exited")
		if (cfg == "c")
			fact(("removed", "vs_containers") in cnt && count("removed", "vs_containers") == 0 &&
				count("removed", "vs_regions") == 0 && count("removed", "vs_pinned_pages") == 0 &&
				count("removed", "vs_charged_pages") == 0, "our_container_left_nothing_after_removal",
				"containers " count("removed", "vs_containers") ", regions " count("removed", "vs_regions") \
				", pinned " count("removed", "vs_pinned_pages") ", charged " count("removed", "vs_charged_pages"))
		fact(f["l1_rescan_rebound"] == "vfio-pci", "l1_rescan_brings_it_back_to_vfio_pci",
			"driver after rescan: " (f["l1_rescan_rebound"] == "" ? "no device" : f["l1_rescan_rebound"]))
	}
	# EEH from L2 (guest-init): enabled on the PE of its passed-through
	# device, and its state read answered by our container (config c).
	say("  L2 EEH: " (l2eeh == "" ? "no report" : l2eeh) \
		"; vfio_spapr EEH ops for L2's state read " delta("eeh-begin", "eeh-end", "vs_eeh_ops") \
		", whole run " delta("qemu-start", "qemu-exit", "vs_eeh_ops"))
	# QEMU offers a guest EEH only for a PHB whose container holds one
	# group (vfio_eeh_as_ok), so not with two devices.
	if (cfg == "c" && devices == 1) {
		fact(eeh_on == "on" && eeh_pe != "none" && eeh_pe != "",
			"l2_eeh_enabled_on_passed_through_device_pe", "L2: " l2eeh)
		fact(delta("eeh-begin", "eeh-end", "vs_eeh_ops") > 0,
			"l2_eeh_state_read_answered_by_our_container",
			"vfio_spapr eeh_ops " count("eeh-begin", "vs_eeh_ops") " -> " count("eeh-end", "vs_eeh_ops"))
		# L2's recovery of the PE: its reset and configure go through
		# our container, after which the driver's slot_reset reads the
		# device back ("recovered"); then the driver resumes, which
		# needs the device's interrupts again, and the device reads
		# right.
		say("  L2 EEH recovery: " (l2rec == "" ? "no report" : l2rec) \
			"; vfio_spapr EEH ops during it " delta("recover-begin", "recover-end", "vs_eeh_ops") \
			"; MSI-X " (l2msix == "" ? "?" : l2msix))
		fact(slot_recovered && delta("recover-begin", "recover-end", "vs_eeh_ops") >= 2,
			"l2_eeh_reset_and_configure_through_our_container",
			"L2 slot_reset recovered: " (slot_recovered ? "yes" : "no") "; eeh_ops " \
			count("recover-begin", "vs_eeh_ops") " -> " count("recover-end", "vs_eeh_ops"))
		# A guest kernel with an MSI-X domain per device asks QEMU for
		# its vectors once, and QEMU clears them at the reset: the
		# resume then waits on interrupts that never come, whoever
		# serves the PE (guest-init, Documentation/kernels-7.rst).
		lost = l2rec != "" && rec_done == 0 && msix_per_device
		why = "L2's MSI-X domain is per device (" l2msix "): QEMU clears the vectors at the slot reset" \
			" and this guest kernel never asks for them again (stock, kernels-7.rst)"
		if (lost)
			skip("l2_eeh_recovery_completes", why)
		else
			fact(rec_done == 1, "l2_eeh_recovery_completes", "L2: " l2rec)
		if (lost && rec_mib == "skipped")
			skip("l2_reads_right_after_eeh_recovery", why)
		else
			fact(rec_mib != "" && rec_mib == ENVIRON["E2E_FIRST_MIB"], "l2_reads_right_after_eeh_recovery",
				"first MiB " rec_mib ", image " ENVIRON["E2E_FIRST_MIB"])
	}
	if (cfg == "b")
		fact(kr > 0 && ur == 0, "tce_hcalls_served_in_kernel", "kernel " kr - ur ", QEMU " ur)
	else if (cfg == "a")
		fact(ur > 0 && ur == kr, "tce_hcalls_served_by_qemu", "kernel " kr - ur ", QEMU " ur)
	else if (f["kvm_tce"] != "")
		fact(kr > 0 && ur == 0, "tce_hcalls_served_in_kernel_by_kvm_tce",
			"kernel " kr - ur ", QEMU " ur)
	else
		fact(ur > 0, "tce_map_hcalls_reach_our_container", "kernel " kr - ur ", QEMU " ur)
	# Configuration a: QEMU adds the group to the KVM-VFIO device and,
	# without KVM_CAP_SPAPR_TCE_VFIO, never links it to a table; the stock
	# kvm.ko of both kernels then warns in kvm_spapr_tce_release_vfio_group
	# when QEMU exits. That stock warning, and nothing else, is allowed there,
	# in a log whole from start to end (E2E_LOG_CUTS, lab_log_trouble).
	whole = ENVIRON["E2E_LOG_CUTS"] == 0
	if (whole && cfg == "a" && ENVIRON["E2E_VMRC"] == 126 && nbad > 0 && nbad == stock_warn) {
		say("  known stock warning: kvm.ko WARN_ON_ONCE in kvm_spapr_tce_release_vfio_group" \
			" at QEMU exit (a group added to the KVM-VFIO device, never linked to a TCE table)")
		fact(1, "kernel_logs_clean_but_the_stock_kvm_vfio_release_warning")
	} else if (whole && devices == 2 && ENVIRON["E2E_VMRC"] == 126 && nbad > 0 &&
		   nbad == stock_pe_warn) {
		# The removal that waited for QEMU completes as QEMU exits,
		# and the stock powernv code warns as it releases the PE, its
		# IOMMU group still referenced; seen with the in-tree container
		# and no module of ours loaded too (e2e.rst).
		say("  known stock warning: pnv_pci_ioda2_release_pe_dma WARN_ON(pe->table_group.group)" \
			" when the removed device's PE goes while its IOMMU group is still referenced")
		fact(1, "kernel_logs_clean_but_the_stock_pe_release_warning")
	} else {
		fact(ENVIRON["E2E_VMRC"] == 0, "kernel_logs_clean",
			"scripts/vm exit status " ENVIRON["E2E_VMRC"] " (126: Oops/WARNING in a kernel log)")
	}
	say(sprintf("  result: config=%s kernel=%s read_mbps=%.2f read_tce_kernel=%d read_tce_qemu=%d" \
		" run_tce_kernel=%d run_tce_qemu=%d hcall_exits=%d vfio_map_ioctls=%d facts_failed=%d",
		cfg, ENVIRON["E2E_KERNEL"], rmb, kr - ur, ur, kt - ut, ut,
		delta("qemu-start", "qemu-exit", "exit_19"), delta("qemu-start", "qemu-exit", MAP_DMA),
		failed + 0))

	if (ENVIRON["E2E_TAP"] == 1) {
		print "TAP version 13"
		print "1.." nfact
		for (i = 1; i <= nfact; i++) print facts[i]
		for (i = 1; i <= nout; i++) print "# " out[i]
	} else {
		for (i = 1; i <= nout; i++) print out[i]
		print "  facts: " nfact - failed " of " nfact " hold" (failed ? "" : ".")
		for (i = 1; i <= nfact; i++) if (facts[i] ~ /^not ok/) print "  FAILED: " facts[i]
		print "  log: " ENVIRON["E2E_LOG"]
	}
	exit failed ? 1 : 0
}
