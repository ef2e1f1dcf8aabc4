/* Arm semihosting (bkpt 0xAB): the host's files and console for the firmware, as QEMU's -semihosting gives them. */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stddef.h>

/* A host file opened as fopen's "rb" (write: "wb"); -1 on failure. */
int semihost_open(const char *path, int write);
/* Bytes transferred (fewer at the end of a file); -1 on error. */
long semihost_read(int fd, void *buf, size_t n);
long semihost_write(int fd, const void *buf, size_t n);
void semihost_close(int fd);
/* A NUL-terminated string to the host's console. */
void semihost_write0(const char *s);
/* The command line QEMU passes (-semihosting-config arg=...), into buf; 0 on success. */
int semihost_cmdline(char *buf, size_t size);
/* Ends the emulation: status 0 (application exit) or failure. */
__attribute__((noreturn)) void semihost_exit(int status);

#endif
