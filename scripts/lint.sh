#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
echo "lint: not yet"
