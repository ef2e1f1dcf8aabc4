// A small RAII wrapper over libsscma's C API for C++17: every handle is a std::unique_ptr with its destroy function,
// every failed call throws sscma::Error carrying the status and the library's message. Header-only; copy it into
// your project or include it from here.
#ifndef SSCMA_EXAMPLE_HPP
#define SSCMA_EXAMPLE_HPP

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sscma/sscma.h>

namespace sscma {

class Error : public std::runtime_error {
public:
    Error(sscma_status status, const std::string &what)
        : std::runtime_error(std::string(sscma_status_string(status)) + ": " + what), status_(status)
    {
    }
    sscma_status status() const { return status_; }

private:
    sscma_status status_;
};

inline void check(sscma_status status)
{
    if (status != SSCMA_OK)
        throw Error(status, sscma_last_error());
}

template <typename T, void (*Destroy)(T *)> struct Deleter {
    void operator()(T *p) const { Destroy(p); }
};
template <typename T, void (*Destroy)(T *)> using Handle = std::unique_ptr<T, Deleter<T, Destroy>>;

using Context = Handle<sscma_context, sscma_context_destroy>;
using Config = Handle<sscma_config, sscma_config_destroy>;
using Runner = Handle<sscma_runner, sscma_runner_destroy>;
using QModel = Handle<sscma_qmodel, sscma_qmodel_destroy>;
using Tensor = Handle<sscma_tensor, sscma_tensor_destroy>;

inline Context make_context(int threads = 0, uint64_t seed = 0)
{
    sscma_context_options o;
    check(sscma_context_options_init(&o, sizeof o));
    o.num_threads = threads;
    o.seed = seed;
    sscma_context *p = nullptr;
    check(sscma_context_create(&o, &p));
    return Context(p);
}

// Loads a config, applies the overrides (--cfg-options) in order and resolves the ${name} references.
inline Config load_config(const std::string &path, const std::vector<std::string> &overrides = {})
{
    sscma_config *p = nullptr;
    check(sscma_config_load(path.c_str(), &p));
    Config c(p);
    for (const auto &o : overrides)
        check(sscma_config_set(c.get(), o.c_str()));
    check(sscma_config_resolve(c.get()));
    return c;
}

inline Runner make_runner(sscma_context *ctx, sscma_config *config)
{
    sscma_runner *p = nullptr;
    check(sscma_runner_create(ctx, config, &p));
    return Runner(p);
}

// Post-training int8 quantization on `batches` batches of the loader, with the config's metadata set.
inline QModel quantize(sscma_runner *runner, const char *calib_split = "val", int64_t batches = 32)
{
    sscma_model *model = nullptr;
    sscma_loader *calib = nullptr;
    check(sscma_runner_model(runner, &model));
    check(sscma_runner_loader(runner, calib_split, &calib));
    sscma_quant_options o;
    check(sscma_quant_options_init(&o, sizeof o));
    o.calib_batches = batches;
    sscma_qmodel *p = nullptr;
    check(sscma_quantize(model, calib, &o, &p));
    QModel q(p);
    check(sscma_runner_set_meta(runner, q.get()));
    return q;
}

inline Tensor read_image(sscma_context *ctx, const std::string &path)
{
    sscma_tensor *p = nullptr;
    check(sscma_image_read(ctx, path.c_str(), 0, &p));
    return Tensor(p);
}

inline std::vector<sscma_prediction> predict(sscma_qmodel *model, const sscma_tensor *image, size_t capacity = 64)
{
    std::vector<sscma_prediction> r(capacity);
    int32_t n = 0;
    check(sscma_predict(model, image, nullptr, r.data(), static_cast<int32_t>(r.size()), &n));
    r.resize(static_cast<size_t>(n) < capacity ? static_cast<size_t>(n) : capacity);
    return r;
}

} // namespace sscma

#endif // SSCMA_EXAMPLE_HPP
