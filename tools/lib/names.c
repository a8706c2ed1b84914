// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "names.h"

static const struct {
	unsigned int id;
	const char *name;
} teps[] = {
    {TEP_P256, "p256"},
    {TEP_P521, "p521"},
    {TEP_X25519, "x25519"},
    {TEP_X448, "x448"},
};

/* AEAD algorithms, RFC 8548 §7; session_info.aead is 0 until Init2 chose one */
static const struct {
	unsigned int id;
	const char *name;
} aeads[] = {
    {TCPCRYPT_AEAD_AES_128_GCM, "aes128gcm"},
    {TCPCRYPT_AEAD_AES_256_GCM, "aes256gcm"},
    {TCPCRYPT_AEAD_CHACHA20_POLY1305, "chacha20poly1305"},
};

const char *aead_name(unsigned int id)
{
	if (!id)
		return "-";
	for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++)
		if (aeads[i].id == id)
			return aeads[i].name;
	return "unknown";
}

const char *tep_name(unsigned int tep)
{
	for (size_t i = 0; i < sizeof(teps) / sizeof(teps[0]); i++)
		if (teps[i].id == (tep & 0x7f))
			return teps[i].name;
	return "unknown";
}

int tep_parse(const char *s)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(teps) / sizeof(teps[0]); i++)
		if (!strcasecmp(s, teps[i].name))
			return teps[i].id;
	v = strtol(s, &end, 0);
	if (*s && !*end && v >= 0x20 && v <= 0x7f)
		return v;
	return -1;
}

const char *flow_state_name(unsigned int state)
{
	switch (state) {
	case FLOW_NEGOTIATING:
		return "negotiating";
	case FLOW_TCPCRYPT:
		return "tcpcrypt";
	case FLOW_PLAIN:
		return "plain";
	}
	return "unknown";
}

const char *fail_reason_name(unsigned int reason)
{
	static const char *const names[ENO_FAIL__MAX] = {
	    [ENO_OK] = "-",
	    [ENO_FAIL_ABSENT] = "peer-no-eno",
	    [ENO_FAIL_MALFORMED] = "malformed",
	    [ENO_FAIL_MULTIPLE] = "multiple-eno",
	    [ENO_FAIL_ROLE] = "role-conflict",
	    [ENO_FAIL_NO_TEP] = "no-common-tep",
	    [ENO_FAIL_APP_AWARE] = "peer-not-app-aware",
	    [ENO_FAIL_STRIPPED] = "stripped",
	    [ENO_FAIL_BLACKHOLE] = "syn-blackhole",
	    [ENO_FAIL_NEGCACHE] = "negative-cache",
	    [ENO_FAIL_INIT] = "init-failed",
	    [ENO_FAIL_TFO] = "fast-open",
	    [ENO_FAIL_RESUME] = "resume-mismatch",
	};

	return reason < ENO_FAIL__MAX ? names[reason] : "unknown";
}

const char *role_name(unsigned int role)
{
	return role == ENO_ROLE_A ? "A" : role == ENO_ROLE_B ? "B" : "-";
}

const char *policy_name(unsigned int policy)
{
	switch (policy) {
	case POLICY_ON:
		return "on";
	case POLICY_OFF:
		return "off";
	case POLICY_REQUIRE:
		return "require";
	}
	return "unknown";
}

int policy_parse(const char *s)
{
	if (!strcmp(s, "on"))
		return POLICY_ON;
	if (!strcmp(s, "off"))
		return POLICY_OFF;
	if (!strcmp(s, "require"))
		return POLICY_REQUIRE;
	return -1;
}

const char *addr_str(unsigned int family, const __u32 addr[4], char *buf, size_t len)
{
	if (!inet_ntop(family == 10 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *endpoint_str(unsigned int family, const __u32 addr[4], unsigned int port, char *buf,
			 size_t len)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(family, addr, a, sizeof(a));
	snprintf(buf, len, family == 10 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}

char *hex_str(const __u8 *p, size_t n, char *buf)
{
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", p[i]);
	buf[2 * n] = 0;
	return buf;
}
