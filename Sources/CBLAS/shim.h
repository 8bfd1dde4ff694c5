#include <cblas.h>
/* OpenBLAS extensions: core name and thread count. */
char *openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
