/* Arm semihosting calls (the operation numbers and blocks of Arm's semihosting specification). */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_READ = 0x06,
       SYS_GET_CMDLINE = 0x15, SYS_EXIT = 0x18 };

static long call(uint32_t op, void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (long)(int32_t)r0;
}

int semihost_open(const char *path, int write)
{
    uint32_t block[3] = {(uint32_t)(uintptr_t)path, write ? 5u : 1u, (uint32_t)strlen(path)};
    return (int)call(SYS_OPEN, block);
}

long semihost_read(int fd, void *buf, size_t n)
{
    uint32_t block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    long left = call(SYS_READ, block); /* bytes not read */
    return left < 0 || (size_t)left > n ? -1 : (long)(n - (size_t)left);
}

long semihost_write(int fd, const void *buf, size_t n)
{
    uint32_t block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    long left = call(SYS_WRITE, block); /* bytes not written */
    return left != 0 ? -1 : (long)n;
}

void semihost_close(int fd)
{
    uint32_t block[1] = {(uint32_t)fd};
    call(SYS_CLOSE, block);
}

void semihost_write0(const char *s)
{
    call(SYS_WRITE0, (void *)s);
}

int semihost_cmdline(char *buf, size_t size)
{
    uint32_t block[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)size};
    return call(SYS_GET_CMDLINE, block) == 0 ? 0 : -1;
}

void semihost_exit(int status)
{
    /* AArch32 SYS_EXIT takes the reason itself: ADP_Stopped_ApplicationExit, or RunTimeErrorUnknown (QEMU: 1) */
    call(SYS_EXIT, (void *)(uintptr_t)(status == 0 ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

/* newlib's printf writes here (nano.specs, nosys.specs): to the host's console. */
int _write(int fd, const char *buf, int n);
int _write(int fd, const char *buf, int n)
{
    static int console = -2;
    (void)fd;
    if (console == -2) {
        uint32_t block[3] = {(uint32_t)(uintptr_t)":tt", 4u, 3u};
        console = (int)call(SYS_OPEN, block);
    }
    return semihost_write(console, buf, (size_t)n) < 0 ? -1 : n;
}
