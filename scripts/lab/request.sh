#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# request.sh QMP-SOCKET REQUEST...: carry out what a guest asked for with a
# "LAB-REQUEST: ..." console line. Known requests:
#   mem-add ID MIB    hot-add a pc-dimm of MIB MiB named ID
#   mem-del ID        unplug it
set -uo pipefail
qmp=$1
shift
Q="python3 $(dirname "$0")/qmp.py $qmp"
case $1 in
mem-add)
	$Q object-add "{\"qom-type\":\"memory-backend-ram\",\"id\":\"mem-$2\",\"size\":$(($3 << 20))}" &&
		$Q device_add "{\"driver\":\"pc-dimm\",\"id\":\"$2\",\"memdev\":\"mem-$2\"}"
	;;
mem-del)
	$Q device_del "{\"id\":\"$2\"}"
	;;
*)
	echo "request: unknown request '$*'" >&2
	exit 2
	;;
esac
