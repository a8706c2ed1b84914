// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A TCP socket iterator run once when tcpcryptd starts: it enrols the
 * listening sockets that already exist (TCP_LISTEN_CB ran before sock_ops
 * was attached), so that servers started before the agent answer ENO too.
 * Established connections are left alone: they stay plain.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

#define TCP_LISTEN_ 10

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("iter/tcp")
int tcpcrypt_listeners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	int flags = BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;

	if (!skc || skc->skc_state != TCP_LISTEN_)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp)
		bpf_setsockopt(tp, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
	return 0;
}
