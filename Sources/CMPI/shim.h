#include <dlfcn.h>
#include <stddef.h>

/* Open MPI's C interface, loaded with dlopen when loom is started by mpirun:
 * linking it would make every build need libopenmpi-dev and every loom
 * process load libmpi, and most never run under mpirun. Open MPI's handles
 * (MPI_COMM_WORLD, MPI_BYTE) are the addresses of global objects in libmpi,
 * so they come from dlsym too. ABI of Open MPI 4 (libmpi.so.40, mpi.h of
 * 4.1.4); every handle is a pointer there. */

typedef struct loom_mpi {
    int (*init_thread)(int *, char ***, int, int *);
    int (*finalize)(void);
    int (*comm_rank)(void *, int *);
    int (*comm_size)(void *, int *);
    int (*comm_dup)(void *, void **);
    int (*bcast)(void *, int, void *, int, void *);
    int (*ibcast)(void *, int, void *, int, void *, void **);
    int (*allgatherv)(const void *, int, void *, void *, const int *, const int *, void *, void *);
    int (*iallgather)(const void *, int, void *, void *, int, void *, void *, void **);
    int (*test)(void **, int *, void *);
    int (*abort)(void *, int);
    void *comm_world;
    void *byte_type;
} loom_mpi;

enum { LOOM_MPI_THREAD_SERIALIZED = 2, LOOM_MPI_SUCCESS = 0 };

/* Loads libmpi; 0 when it is there, else -1 (then `error` says why). Global
 * symbols: Open MPI's own plugins, loaded later, resolve libmpi's. */
static inline int loom_mpi_load(loom_mpi *m, const char **error) {
    void *lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { *error = dlerror(); return -1; }
    m->init_thread = (int (*)(int *, char ***, int, int *))dlsym(lib, "MPI_Init_thread");
    m->finalize = (int (*)(void))dlsym(lib, "MPI_Finalize");
    m->comm_rank = (int (*)(void *, int *))dlsym(lib, "MPI_Comm_rank");
    m->comm_size = (int (*)(void *, int *))dlsym(lib, "MPI_Comm_size");
    m->comm_dup = (int (*)(void *, void **))dlsym(lib, "MPI_Comm_dup");
    m->bcast = (int (*)(void *, int, void *, int, void *))dlsym(lib, "MPI_Bcast");
    m->ibcast = (int (*)(void *, int, void *, int, void *, void **))dlsym(lib, "MPI_Ibcast");
    m->allgatherv = (int (*)(const void *, int, void *, void *, const int *, const int *, void *, void *))dlsym(lib, "MPI_Allgatherv");
    m->iallgather = (int (*)(const void *, int, void *, void *, int, void *, void *, void **))dlsym(lib, "MPI_Iallgather");
    m->test = (int (*)(void **, int *, void *))dlsym(lib, "MPI_Test");
    m->abort = (int (*)(void *, int))dlsym(lib, "MPI_Abort");
    m->comm_world = dlsym(lib, "ompi_mpi_comm_world");
    m->byte_type = dlsym(lib, "ompi_mpi_byte");
    if (!m->init_thread || !m->finalize || !m->comm_rank || !m->comm_size || !m->comm_dup || !m->bcast || !m->ibcast || !m->allgatherv
        || !m->iallgather || !m->test || !m->abort || !m->comm_world || !m->byte_type) {
        *error = "libmpi.so.40 is not Open MPI 4 (a function or handle is missing)";
        return -1;
    }
    return 0;
}
