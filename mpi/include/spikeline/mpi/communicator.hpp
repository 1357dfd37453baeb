// The run's processes over MPI.
//
// make_communicator() is the first thing main() does. When a launcher
// (mpirun, srun) started the process it initialises MPI (one thread calls
// MPI: MPI_THREAD_FUNNELED) and returns a Communicator over a duplicate of
// MPI_COMM_WORLD, whose errors are returned, not fatal (an MPI error becomes
// an Error, exit 74). Otherwise it returns the serial communicator and MPI
// is never touched: a plain `spikeline run` of an MPI build is the plain
// build's. MPI is finalised when the last owner of the communicator lets it
// go (the end of main).
#pragma once

#include <memory>

#include "spikeline/engine/communicator.hpp"

namespace spikeline::mpi {

std::shared_ptr<Communicator> make_communicator(int& argc, char**& argv);

// True when a launcher's environment variables say that this process is
// one of an MPI job.
bool launched_by_mpi();

}  // namespace spikeline::mpi
