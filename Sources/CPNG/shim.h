#include <png.h>

/// PNG_IMAGE_VERSION is a macro Swift does not import as a constant.
static inline unsigned int loom_png_image_version(void) { return PNG_IMAGE_VERSION; }
