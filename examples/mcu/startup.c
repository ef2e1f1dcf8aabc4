/*
 * Reset and fault handlers of the firmware: copy .data, clear .bss, paint the stack (so main can report how much
 * of it was used), enable the FPU, call main. A fault prints its name through semihosting and ends QEMU.
 */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

extern uint32_t __etext, __data_start, __data_end, __bss_start, __bss_end, __stack_bottom, __stack_top;
int main(void);
void reset_handler(void);

#define STACK_PAINT 0xA5A5A5A5u

static void fault(const char *what)
{
    semihost_write0(what);
    semihost_exit(1);
}

static void hard_fault(void) { fault("HardFault\n"); }
static void mem_fault(void) { fault("MemManage fault\n"); }
static void bus_fault(void) { fault("BusFault\n"); }
static void usage_fault(void) { fault("UsageFault\n"); }
static void other(void) { fault("unexpected exception\n"); }

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top, reset_handler, other, hard_fault, mem_fault, bus_fault, usage_fault,
    other, 0, 0, 0, other, other, 0, other, other,
};

/* Bytes of the stack ever written: the painted words still intact sit at its bottom. */
uint32_t stack_used_bytes(void)
{
    uintptr_t p = (uintptr_t)&__stack_bottom;
    while (p < (uintptr_t)&__stack_top && *(volatile const uint32_t *)p == STACK_PAINT)
        p += 4;
    return (uint32_t)((uintptr_t)&__stack_top - p);
}

__attribute__((noreturn)) void reset_handler(void)
{
    memcpy(&__data_start, &__etext, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start, 0, (size_t)((char *)&__bss_end - (char *)&__bss_start));
    /* paint below the current frame only (its top 256 bytes) */
    for (uintptr_t p = (uintptr_t)&__stack_bottom; p < (uintptr_t)&__stack_top - 256; p += 4)
        *(volatile uint32_t *)p = STACK_PAINT;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm volatile("dsb\n isb");
#endif
    semihost_exit(main() == 0 ? 0 : 1);
    for (;;) {
    }
}
