/* SPDX-License-Identifier: MIT */
/* rtnetlink: the capture veth pairs of the data path.  All return 0 or -errno. */
#ifndef TCPCRYPT_NETLINK_H
#define TCPCRYPT_NETLINK_H

#include <stdint.h>

/* A veth pair, both ends down, with this MTU. */
int nl_veth_create(const char *name, const char *peer, unsigned mtu);
int nl_link_up(const char *name);
/* Add an IPv4 address (network order) to name. */
int nl_addr4_add(const char *name, uint32_t addr, unsigned prefixlen, unsigned char scope);
/* Deleting one end of a veth pair deletes both. */
int nl_link_delete(const char *name);

#endif
