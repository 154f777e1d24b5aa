#include "report.h"

#include "ambient.h"
#include "semihost.h"

/* Characters sent per semihosting call: long hex dumps go out in pieces of this size. */
#define LINE_CHUNK 256

uint32_t report_fnv1a(const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    uint32_t hash = 0x811C9DC5u;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 0x01000193u;
    }
    return hash;
}

static void write_line(const char *key, const char *text)
{
    semihost_write(key);
    semihost_write(" ");
    semihost_write(text);
    semihost_write("\n");
}

void report_text(const char *key, const char *text)
{
    write_line(key, text);
}

static void format_u32(uint32_t value, char out[11])
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0);
    for (int i = 0; i < n; i++) {
        out[i] = digits[n - 1 - i];
    }
    out[n] = '\0';
}

void report_u32(const char *key, uint32_t value)
{
    char text[11];
    format_u32(value, text);
    write_line(key, text);
}

static const char HEX[] = "0123456789abcdef";

static void write_hex(const uint8_t *bytes, size_t len)
{
    char chunk[LINE_CHUNK + 1];
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        chunk[used++] = HEX[bytes[i] >> 4];
        chunk[used++] = HEX[bytes[i] & 0xFu];
        if (used == LINE_CHUNK || i + 1 == len) {
            chunk[used] = '\0';
            semihost_write(chunk);
            used = 0;
        }
    }
}

void report_bytes(const char *name, const void *bytes, size_t len)
{
    char key[48];
    size_t n = 0;
    while (name[n] != '\0' && n < sizeof key - 8) {
        key[n] = name[n];
        n++;
    }

    const char len_suffix[] = "_bytes";
    const char hash_suffix[] = "_fnv1a";
    for (size_t i = 0; i < sizeof len_suffix; i++) {
        key[n + i] = len_suffix[i];
    }
    report_u32(key, (uint32_t)len);

    for (size_t i = 0; i < sizeof hash_suffix; i++) {
        key[n + i] = hash_suffix[i];
    }
    uint32_t hash = report_fnv1a(bytes, len);
    uint8_t hash_be[4] = {(uint8_t)(hash >> 24), (uint8_t)(hash >> 16), (uint8_t)(hash >> 8),
                          (uint8_t)hash};
    semihost_write(key);
    semihost_write(" ");
    write_hex(hash_be, sizeof hash_be);
    semihost_write("\n");

    key[n] = '\0';
    semihost_write(key);
    semihost_write(" ");
    write_hex(bytes, len);
    semihost_write("\n");
}

void report_error(const char *what, int32_t status)
{
    semihost_write("error ");
    semihost_write(what);
    semihost_write(": ");
    semihost_write(ambient_status_message(status));
    semihost_write("\n");
}
