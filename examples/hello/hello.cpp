// hello_cpp: the hello example from C++17, with the handles held by std::unique_ptr so they are always released.
//     c++ -std=c++17 hello.cpp $(pkg-config --cflags --libs sscma) -o hello_cpp
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include <sscma/sscma.h>

namespace {

struct ContextDeleter {
    void operator()(sscma_context *ctx) const { sscma_context_destroy(ctx); }
};
struct TensorDeleter {
    void operator()(sscma_tensor *t) const { sscma_tensor_destroy(t); }
};
using Context = std::unique_ptr<sscma_context, ContextDeleter>;
using Tensor = std::unique_ptr<sscma_tensor, TensorDeleter>;

void check(sscma_status status)
{
    if (status != SSCMA_OK)
        throw std::runtime_error(std::string(sscma_status_string(status)) + ": " + sscma_last_error());
}

} // namespace

int main()
{
    try {
        std::printf("libsscma %s (headers %s)\n", sscma_version(), SSCMA_VERSION_STRING);
        sscma_context *raw_ctx = nullptr;
        check(sscma_context_create(nullptr, &raw_ctx));
        Context ctx(raw_ctx);

        const int64_t dims[2] = {1, 10};
        sscma_tensor *raw_logits = nullptr;
        check(sscma_tensor_create(ctx.get(), SSCMA_DTYPE_F32, 2, dims, &raw_logits));
        Tensor logits(raw_logits);
        void *data = nullptr;
        check(sscma_tensor_data(logits.get(), &data));
        float *values = static_cast<float *>(data);
        for (int i = 0; i < 10; i++)
            values[i] = 0.5f * static_cast<float>(i);
        int64_t classes = 0;
        check(sscma_tensor_dim(logits.get(), -1, &classes));
        std::printf("tensor: f32 [1, %lld], last value %.1f\n", static_cast<long long>(classes), values[9]);
        return std::string(sscma_version()) == SSCMA_VERSION_STRING ? 0 : 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "hello_cpp: %s\n", e.what());
        return 1;
    }
}
