/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets and the seed generator (gen_seeds.c) agree on: the
 * input layouts and the fixed frame key.
 *
 * fuzz_init:  byte 0 picks the TEP (bits 0-1) and Init1/Init2 (bit 2); the
 *             rest is the start of the peer's stream.
 * fuzz_frame: byte 0 picks the AEAD (value % 3) and seeds the stream cuts;
 *             the rest is a framed stream at offset 0 under FUZZ_MK0 (host B
 *             decodes what host A sent), and also the script of a roundtrip.
 */
#ifndef TCPCRYPT_FUZZ_COMMON_H
#define TCPCRYPT_FUZZ_COMMON_H

#include <stdint.h>
#include "core/aead.h"
#include "core/tep.h"

static const uint8_t FUZZ_MK0[32] = {
    0x6d, 0x6b, 0x30, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x69, 0x6e, 0x67, 0x20,
    0x74, 0x63, 0x70, 0x63, 0x72, 0x79, 0x70, 0x74, 0x20, 0x66, 0x72, 0x61, 0x6d, 0x65, 0x73, 0x21,
};

static const uint16_t fuzz_aeads[3] = {
    TC_AEAD_AES_128_GCM,
    TC_AEAD_AES_256_GCM,
    TC_AEAD_CHACHA20_POLY1305,
};

static const uint8_t fuzz_teps[4] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};

static inline uint32_t fuzz_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif
