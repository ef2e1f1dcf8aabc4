/*
 * Writes the seed of fuzz_checkpoint: the target's own small model, saved. Build and run by hand (the seed is
 * committed in corpus/checkpoint/):
 *   cc -Iinclude -Ibuild/include -I/usr/include/stb tests/fuzz/make_seeds.c -Lbuild/lib -lsscma -lstb \
 *      -o /tmp/make_seeds
 *   LD_LIBRARY_PATH=build/lib /tmp/make_seeds tests/fuzz/corpus/checkpoint/small.ckpt
 */
#include "fuzz_checkpoint.c"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    fuzz_init();
    return sscma_model_save(small_model(), argv[1], 0) == SSCMA_OK ? 0 : 1;
}
