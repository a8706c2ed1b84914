/* SPDX-License-Identifier: MIT */
/* Human-readable names for the values stored in the tcpcrypt maps. */
#ifndef TCPCRYPT_NAMES_H
#define TCPCRYPT_NAMES_H

#include <stddef.h>
#include "tcpcrypt_common.h"

/* Names of TEPs and AEAD algorithms, each from one table in names.c */
const char *tep_name(unsigned int tep);
const char *aead_name(unsigned int id);
const char *flow_state_name(unsigned int state);
const char *fail_reason_name(unsigned int reason);
const char *role_name(unsigned int role);
const char *policy_name(unsigned int policy);
/* Parse on|off|require; returns -1 if unknown. */
int policy_parse(const char *s);
/* Parse a TEP name (x25519, x448, p256, p521) or number (0x23); returns -1 if unknown. */
int tep_parse(const char *s);
/* "198.18.1.2" or "fd00::1"; buf must hold INET6_ADDRSTRLEN bytes. */
const char *addr_str(unsigned int family, const __u32 addr[4], char *buf, size_t len);
/* "[addr]:port" for IPv6, "addr:port" for IPv4. */
const char *endpoint_str(unsigned int family, const __u32 addr[4], unsigned int port, char *buf,
			 size_t len);
/* Lower-case hex of n bytes into buf (2n+1 bytes). */
char *hex_str(const __u8 *p, size_t n, char *buf);

#endif
