// SPDX-License-Identifier: MIT
/*
 * libtcpcrypt: what applications need beside getsockopt(2) on the TCP_ENO_*
 * options (include/tcpcrypt/tcpcrypt.h): waiting for a connection's session
 * ID, names, hex.  No BPF, no state, thread-safe.  The wait is a bounded
 * back-off of ppoll(2) sleeps on the socket itself, which wake early when the
 * connection fails (docs/architecture.md#waiting-for-the-session-id).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tcpcrypt/tcpcrypt.h"

/* Back-off of the wait: the first retry after 100 us, doubling up to 4 ms. */
#define WAIT_FIRST_US 100
#define WAIT_MAX_US   4000

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int tcpcrypt_wait_sessid(int fd, unsigned char *id, size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_us() + (int64_t)timeout_ms * 1000;
	int step = WAIT_FIRST_US;

	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (!id || len < TCP_ENO_SESSID_LEN) {
		errno = EINVAL;
		return -1;
	}
	/* a socket that is not connected would wait for nothing */
	if (getpeername(fd, (struct sockaddr *)&peer, &plen))
		return -1;
	for (;;) {
		socklen_t n = len;
		struct pollfd p = {.fd = fd, .events = POLLRDHUP};
		int64_t left, us;
		struct timespec ts;

		if (!getsockopt(fd, IPPROTO_TCP, TCP_ENO_SESSID, id, &n))
			return n;
		/* only "not yet" is worth waiting for */
		if (errno != ENOTCONN)
			return -1;
		left = deadline - now_us();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* in microseconds: poll(2)'s milliseconds would make the first 100 us 1 ms */
		us = step < left ? step : left;
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = us % 1000000 * 1000;
		/* a sleep that ends early if the connection is reset or closed */
		if (ppoll(&p, 1, &ts, NULL) > 0 &&
		    (p.revents & (POLLRDHUP | POLLERR | POLLHUP | POLLNVAL))) {
			n = len;
			if (!getsockopt(fd, IPPROTO_TCP, TCP_ENO_SESSID, id, &n))
				return n;
			if (errno == ENOTCONN)
				errno = ECONNRESET;
			return -1;
		}
		if (step < WAIT_MAX_US)
			step *= 2;
	}
}

char *tcpcrypt_hex(const unsigned char *b, size_t n, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdef";

	if (!out || (n && !b) || size < 1 || n > (size - 1) / 2) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
	return out;
}

const char *tcpcrypt_role_name(int role)
{
	return role == TCP_ENO_ROLE_A ? "A" : role == TCP_ENO_ROLE_B ? "B" : NULL;
}

/* The names tcpcryptctl prints (tools/lib/names.c). */
static const struct {
	int id;
	const char *name;
} teps[] =
    {
	{TCP_ENO_TEP_P256, "p256"},
	{TCP_ENO_TEP_P521, "p521"},
	{TCP_ENO_TEP_X25519, "x25519"},
	{TCP_ENO_TEP_X448, "x448"},
},
  aeads[] = {
      {TCP_CRYPT_AEAD_AES_128_GCM, "aes128gcm"},
      {TCP_CRYPT_AEAD_AES_256_GCM, "aes256gcm"},
      {TCP_CRYPT_AEAD_CHACHA20_POLY1305, "chacha20poly1305"},
};

const char *tcpcrypt_tep_name(int tep)
{
	for (size_t i = 0; i < sizeof(teps) / sizeof(teps[0]); i++)
		if (tep >= 0 && teps[i].id == (tep & 0x7f))
			return teps[i].name;
	return NULL;
}

const char *tcpcrypt_aead_name(int aead)
{
	for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++)
		if (aeads[i].id == aead)
			return aeads[i].name;
	return NULL;
}

int tcpcrypt_tep_from_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(teps) / sizeof(teps[0]); i++)
		if (!strcasecmp(name, teps[i].name))
			return teps[i].id;
	return -1;
}

int tcpcrypt_aead_from_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(aeads) / sizeof(aeads[0]); i++)
		if (!strcasecmp(name, aeads[i].name))
			return aeads[i].id;
	return -1;
}
