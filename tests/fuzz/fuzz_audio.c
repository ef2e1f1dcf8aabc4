/*
 * libFuzzer target: Speechcommand's audio files and lists. The input is split at the first NUL byte: the bytes of a
 * clip (yes/a_nohash_0.wav, also the one background file) and validation_list.txt. The dataset is opened in val
 * mode (reading every listed clip: libsndfile, libsamplerate to 8 kHz, shaping) and in train mode with the silence
 * class and background mixing (the clip cut from the background file).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    if (!ready) {
        fuzz_mkdir("yes");
        fuzz_mkdir("_background_noise_");
        fuzz_write("testing_list.txt", (const uint8_t *)"", 0);
        ready = 1;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul != NULL ? (size_t)(nul - data) : size;
    fuzz_write("yes/a_nohash_0.wav", data, first);
    fuzz_write("_background_noise_/hum.wav", data, first);
    fuzz_write("validation_list.txt", nul != NULL ? nul + 1 : data + size, nul != NULL ? size - first - 1 : 0);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": \"val\", "
             "\"segment_length\": 64, \"lower_volume\": true, \"on_defect\": \"skip\"}", fuzz_dir);
    fuzz_open_and_read(cfg);
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"sampling_rate\": "
             "16000, \"segment_length\": 32, \"silence\": 1, \"use_background\": true, \"unknown\": true}", fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
