// SPDX-License-Identifier: MIT
/*
 * Test helper: one echo connection from a socket whose own tcpcrypt settings
 * say SKO_NO_RESUME (RFC 8548 §3.5 "resumption requests will be ignored").
 * It writes the socket's entry in the pinned socket-local storage map
 * sk_opts (struct tcpcrypt_sk_opts, include/tcpcrypt_common.h) with
 * bpf_map_update_elem on the socket's fd, which is where the socket-option
 * hooks keep a TCP_ENO_* setting, then connects and checks the echo.
 *
 *   sko_echo PIN_DIR ADDR PORT    prints the local port; exit 0 if intact
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "tcpcrypt_common.h"

int main(int argc, char **argv)
{
	struct tcpcrypt_sk_opts so = {.cache = SKO_NO_RESUME};
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	socklen_t sl;
	char path[512], buf[1000], got[1000];
	int map, fd;
	size_t n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: sko_echo PIN_DIR ADDR PORT\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[2], &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(argv[3]));
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, argv[2], &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(atoi(argv[3]));
		sl = sizeof(*s6);
	} else {
		fprintf(stderr, "sko_echo: bad address %s\n", argv[2]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], MAP_SKOPTS);
	map = bpf_obj_get(path);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (map < 0 || fd < 0 || bpf_map_update_elem(map, &fd, &so, BPF_NOEXIST)) {
		perror("sko_echo: sk_opts");
		return 1;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	if (connect(fd, (void *)&ss, sl) || write(fd, buf, sizeof(buf)) != sizeof(buf) ||
	    shutdown(fd, SHUT_WR)) {
		perror("sko_echo: connect");
		return 1;
	}
	while (n < sizeof(got)) {
		ssize_t k = read(fd, got + n, sizeof(got) - n);

		if (k <= 0)
			break;
		n += k;
	}
	sl = sizeof(ss);
	getsockname(fd, (void *)&ss, &sl);
	printf("%u\n", ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port));
	close(fd);
	return n == sizeof(buf) && !memcmp(buf, got, n) ? 0 : 1;
}
