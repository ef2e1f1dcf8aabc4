/*
 * Compiled by check_exports.py together with a C array written by sscma_export_c_array (the header found through
 * -I, the symbol through -DSYMBOL=...): checks that the array is 16-byte aligned and holds the bytes of the TFLite
 * file given as argv[1]. Prints "ok" or what differs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include HEADER

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL)
        return 2;
    static unsigned char file[1 << 24];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    if ((uintptr_t)SYMBOL % 16 != 0) {
        printf("array not 16-byte aligned\n");
        return 1;
    }
    if (n != SYMBOL_LEN) {
        printf("length %u, file %zu bytes\n", SYMBOL_LEN, n);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (file[i] != SYMBOL[i]) {
            printf("byte %zu differs\n", i);
            return 1;
        }
    printf("ok\n");
    return 0;
}
