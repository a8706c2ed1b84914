// SPDX-License-Identifier: MIT
/*
 * libtcpcrypt (lib/tcpcrypt.c).  The wait is tested against a getsockopt()
 * defined here, which the library's call resolves to (it takes precedence
 * over libc's): it answers ENOTCONN a given number of times, then an ID or
 * an error, and counts the calls.  Expected hex and names are written out.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tcpcrypt/tcpcrypt.h"
#include "t.h"

static int fake_enotconn; /* answers ENOTCONN this many more times */
static int fake_final;	  /* then this errno, or 0: the ID */
static int fake_calls;
static int fake_level, fake_opt;

int getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	(void)fd;
	fake_calls++;
	fake_level = level;
	fake_opt = opt;
	if (fake_enotconn > 0) {
		fake_enotconn--;
		errno = ENOTCONN;
		return -1;
	}
	if (fake_final) {
		errno = fake_final;
		return -1;
	}
	for (int i = 0; i < TCP_ENO_SESSID_LEN; i++)
		((unsigned char *)val)[i] = i ? i : 0x23;
	*len = TCP_ENO_SESSID_LEN;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A socket that stays open and quiet: poll sleeps its full time on it. */
static int quiet_fd(int *other)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	*other = sv[1];
	return sv[0];
}

T(wait_returns_the_id_after_retries)
{
	unsigned char id[40] = {0};
	int other, fd = quiet_fd(&other);
	double t0 = now_ms();

	fake_calls = 0;
	fake_enotconn = 5;
	fake_final = 0;
	CHECK_EQ(tcpcrypt_wait_sessid(fd, id, sizeof(id), 2000), TCP_ENO_SESSID_LEN);
	CHECK_EQ(fake_calls, 6);
	CHECK_EQ(fake_level, IPPROTO_TCP);
	CHECK_EQ(fake_opt, 0x454E0002);
	CHECK_EQ(id[0], 0x23);
	CHECK_EQ(id[32], 32);
	/* back-off 0.1, 0.2, 0.4, 0.8, 1.6 ms: at least 3.1 ms, not seconds */
	CHECK(now_ms() - t0 >= 3.0);
	CHECK(now_ms() - t0 < 500);
	close(fd);
	close(other);
}

T(wait_times_out_without_spinning)
{
	unsigned char id[TCP_ENO_SESSID_LEN];
	int other, fd = quiet_fd(&other);
	double t0 = now_ms(), dt;

	fake_calls = 0;
	fake_enotconn = 1 << 30;
	CHECK_EQ(tcpcrypt_wait_sessid(fd, id, sizeof(id), 200), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	dt = now_ms() - t0;
	CHECK(dt >= 199 && dt < 400);
	/* 4 ms steps once backed off: about 50 tries in 200 ms, never thousands */
	CHECK(fake_calls >= 20 && fake_calls <= 80);
	/* no time at all: one try */
	fake_calls = 0;
	CHECK_EQ(tcpcrypt_wait_sessid(fd, id, sizeof(id), 0), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	CHECK_EQ(fake_calls, 1);
	fake_enotconn = 0;
	close(fd);
	close(other);
}

T(wait_stops_at_a_final_error)
{
	static const int errs[] = {EOPNOTSUPP, ENOPROTOOPT, ECONNRESET, EBADF};
	unsigned char id[TCP_ENO_SESSID_LEN];
	int other, fd = quiet_fd(&other);

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fake_calls = 0;
		fake_enotconn = 2;
		fake_final = errs[i];
		CHECK_EQ(tcpcrypt_wait_sessid(fd, id, sizeof(id), 5000), -1);
		CHECK_EQ(errno, errs[i]);
		CHECK_EQ(fake_calls, 3);
	}
	fake_final = 0;
	/* a buffer shorter than the ID: EINVAL before any call */
	fake_calls = 0;
	CHECK_EQ(tcpcrypt_wait_sessid(fd, id, TCP_ENO_SESSID_LEN - 1, 5000), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(tcpcrypt_wait_sessid(fd, NULL, 64, 5000), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(fake_calls, 0);
	/* a socket that is not connected: ENOTCONN at once, not a wait */
	{
		int u = socket(AF_INET, SOCK_STREAM, 0);

		fake_enotconn = 1 << 30;
		CHECK_EQ(tcpcrypt_wait_sessid(u, id, sizeof(id), 5000), -1);
		CHECK_EQ(errno, ENOTCONN);
		CHECK_EQ(fake_calls, 0);
		fake_enotconn = 0;
		close(u);
	}
	close(fd);
	close(other);
}

T(wait_wakes_when_the_connection_ends)
{
	unsigned char id[TCP_ENO_SESSID_LEN];
	int other, fd = quiet_fd(&other);
	double t0 = now_ms();

	close(other); /* the peer is gone: POLLRDHUP / POLLHUP at once */
	fake_calls = 0;
	fake_enotconn = 1 << 30;
	CHECK_EQ(tcpcrypt_wait_sessid(fd, id, sizeof(id), 5000), -1);
	CHECK_EQ(errno, ECONNRESET);
	CHECK(now_ms() - t0 < 100);
	CHECK_EQ(fake_calls, 2);
	fake_enotconn = 0;
	close(fd);
}

T(hex)
{
	static const unsigned char b[] = {0x00, 0x23, 0xab, 0xff};
	char out[9];

	CHECK(tcpcrypt_hex(b, 4, out, sizeof(out)) == out);
	CHECK(!strcmp(out, "0023abff"));
	CHECK(tcpcrypt_hex(b, 0, out, 1) == out);
	CHECK(!strcmp(out, ""));
	/* one byte short of the NUL: refused, never truncated */
	CHECK(tcpcrypt_hex(b, 4, out, 8) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(tcpcrypt_hex(b, 1, out, 0) == NULL);
	CHECK(tcpcrypt_hex(NULL, 1, out, sizeof(out)) == NULL);
	CHECK(tcpcrypt_hex(b, (size_t)-1, out, sizeof(out)) == NULL);
}

T(names)
{
	CHECK(!strcmp(tcpcrypt_role_name(0), "A"));
	CHECK(!strcmp(tcpcrypt_role_name(1), "B"));
	CHECK(tcpcrypt_role_name(2) == NULL);
	CHECK(tcpcrypt_role_name(-1) == NULL);
	CHECK(!strcmp(tcpcrypt_tep_name(0x23), "x25519"));
	CHECK(!strcmp(tcpcrypt_tep_name(0xa3), "x25519")); /* v bit ignored */
	CHECK(!strcmp(tcpcrypt_tep_name(0x21), "p256"));
	CHECK(!strcmp(tcpcrypt_tep_name(0x22), "p521"));
	CHECK(!strcmp(tcpcrypt_tep_name(0x24), "x448"));
	CHECK(tcpcrypt_tep_name(0x20) == NULL);
	CHECK(tcpcrypt_tep_name(-95) == NULL);
	CHECK(!strcmp(tcpcrypt_aead_name(1), "aes128gcm"));
	CHECK(!strcmp(tcpcrypt_aead_name(2), "aes256gcm"));
	CHECK(!strcmp(tcpcrypt_aead_name(0x10), "chacha20poly1305"));
	CHECK(tcpcrypt_aead_name(0) == NULL);
	CHECK(tcpcrypt_aead_name(3) == NULL);
	CHECK_EQ(tcpcrypt_tep_from_name("X25519"), 0x23);
	CHECK_EQ(tcpcrypt_tep_from_name("p521"), 0x22);
	CHECK_EQ(tcpcrypt_tep_from_name("x2551"), -1);
	CHECK_EQ(tcpcrypt_tep_from_name(""), -1);
	CHECK_EQ(tcpcrypt_tep_from_name(NULL), -1);
	CHECK_EQ(tcpcrypt_aead_from_name("ChaCha20Poly1305"), 0x10);
	CHECK_EQ(tcpcrypt_aead_from_name("aes"), -1);
	CHECK_EQ(tcpcrypt_aead_from_name(NULL), -1);
}
