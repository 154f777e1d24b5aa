/*
 * The firmware's report: one "key value" line per figure over semihosting, in a form the
 * host test parses. Byte arrays are printed as lowercase hex, two digits per byte, in
 * memory order, with their length and FNV-1a hash on lines of their own.
 *
 * The hash is FNV-1a rather than CRC-32 because the record stream is made of pieces that
 * each end in their own CRC-32, and the CRC-32 of such a stream depends only on the
 * pieces' lengths.
 */

#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

/* Returns the 32-bit FNV-1a hash of `len` bytes. */
uint32_t report_fnv1a(const void *bytes, size_t len);

/* Prints "key text". */
void report_text(const char *key, const char *text);

/* Prints "key value" with the value in decimal. */
void report_u32(const char *key, uint32_t value);

/* Prints "<name>_bytes" (the length), "<name>_fnv1a" and "<name>" with the bytes in hex. */
void report_bytes(const char *name, const void *bytes, size_t len);

/* Prints "error <what>: <message of status>" for a failed library call. */
void report_error(const char *what, int32_t status);

#endif /* REPORT_H */
