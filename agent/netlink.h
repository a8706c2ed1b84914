/* SPDX-License-Identifier: MIT */
/* rtnetlink: the capture veth pairs of the data path.  All return 0 or -errno. */
#ifndef TCPCRYPT_NETLINK_H
#define TCPCRYPT_NETLINK_H

/* A veth pair without IPv6 link-local addresses, both ends down. */
int nl_veth_create(const char *name, const char *peer);
int nl_link_up(const char *name);
/* Deleting one end of a veth pair deletes both. */
int nl_link_delete(const char *name);

#endif
