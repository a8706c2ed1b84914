/* SPDX-License-Identifier: MIT */
/*
 * The two TCP-ENO roles (RFC 8547 §4.3), one encoding for everything: the
 * maps (flow_info.role, session_info.role, where 0 means "none yet"), the
 * BPF programs, tcpcryptctl and the agent's protocol core (which indexes its
 * per-role arrays with tc_role_idx() in agent/core/kdf.h).  No includes, so
 * the pure core can use it without BPF headers.
 */
#ifndef TCPCRYPT_ENO_ROLE_H
#define TCPCRYPT_ENO_ROLE_H

#define ENO_ROLE_A 1
#define ENO_ROLE_B 2

#endif
