#include <zlib.h>

/// zlib's init macros pass sizeof(z_stream) and the version, which Swift
/// cannot expand; these wrap them.
static inline int loom_inflate_init(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
