/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SPAPR_TCE_VERSION_H
#define SPAPR_TCE_VERSION_H

/* One version for the whole module set: the three modules ship together. */
#define SPAPR_TCE_VERSION "0.1.0"

#endif
