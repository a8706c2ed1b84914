// SPDX-License-Identifier: MIT
/* rtnetlink: the capture veth pairs of the data path. */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netlink.h"

/* A request: header, ifinfomsg, attributes, in one aligned buffer. */
union nlreq {
	struct nlmsghdr nh;
	char buf[1024];
};

static struct ifinfomsg *req_init(union nlreq *req, unsigned short type, unsigned short flags)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = flags;
	return NLMSG_DATA(&req->nh);
}

static struct rtattr *attr_put(struct nlmsghdr *nh, unsigned short type, const void *data,
			       unsigned short len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void attr_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (char *)nh + nh->nlmsg_len - (char *)nest;
}

/* Send one request and wait for its acknowledgement; returns 0 or -errno. */
static int nl_talk(struct nlmsghdr *nh)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char buf[4096];
	int fd, err = -EIO;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	nh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = 1;
	if (sendto(fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			goto out;
		}
	}
out:
	close(fd);
	return err;
}

static void put_link_attrs(struct nlmsghdr *nh, const char *name, unsigned mtu)
{
	unsigned one = 1;

	attr_put(nh, IFLA_IFNAME, name, strlen(name) + 1);
	attr_put(nh, IFLA_MTU, &mtu, sizeof(mtu));
	/*
	 * One queue: the agent's AF_XDP socket sits on queue 0.  A veth has a
	 * queue per CPU by default, and generic XDP sees the queue the sender
	 * picked (docs/machine-facts.md#multi-buffer-capture).
	 */
	attr_put(nh, IFLA_NUM_TX_QUEUES, &one, sizeof(one));
	attr_put(nh, IFLA_NUM_RX_QUEUES, &one, sizeof(one));
}

int nl_veth_create(const char *name, const char *peer, unsigned mtu)
{
	union nlreq req;
	struct rtattr *linkinfo, *data, *peerinfo;
	struct ifinfomsg peer_ifi = {};

	req_init(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)->ifi_family = AF_UNSPEC;
	put_link_attrs(&req.nh, name, mtu);
	linkinfo = attr_put(&req.nh, IFLA_LINKINFO, NULL, 0);
	attr_put(&req.nh, IFLA_INFO_KIND, "veth", 4);
	data = attr_put(&req.nh, IFLA_INFO_DATA, NULL, 0);
	peerinfo = attr_put(&req.nh, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi));
	put_link_attrs(&req.nh, peer, mtu);
	attr_end(&req.nh, peerinfo);
	attr_end(&req.nh, data);
	attr_end(&req.nh, linkinfo);
	return nl_talk(&req.nh);
}

int nl_link_up(const char *name)
{
	union nlreq req;
	struct ifinfomsg *ifi = req_init(&req, RTM_NEWLINK, 0);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = if_nametoindex(name);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (!ifi->ifi_index)
		return -ENODEV;
	return nl_talk(&req.nh);
}

int nl_link_delete(const char *name)
{
	union nlreq req;
	struct ifinfomsg *ifi = req_init(&req, RTM_DELLINK, 0);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = if_nametoindex(name);
	if (!ifi->ifi_index)
		return -ENODEV;
	return nl_talk(&req.nh);
}

int nl_addr4_add(const char *name, uint32_t addr, unsigned prefixlen, unsigned char scope)
{
	union nlreq req;
	struct ifaddrmsg *ifa;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = NLMSG_DATA(&req.nh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = scope;
	ifa->ifa_index = if_nametoindex(name);
	if (!ifa->ifa_index)
		return -ENODEV;
	attr_put(&req.nh, IFA_LOCAL, &addr, sizeof(addr));
	attr_put(&req.nh, IFA_ADDRESS, &addr, sizeof(addr));
	return nl_talk(&req.nh);
}
