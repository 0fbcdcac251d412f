// Pushes one job of JOBTYPE per argument, the argument as its only arg, and prints each jid:
//   producer JOBTYPE ARG...        (FAKTORY_URL names the server)
#include <factotum/faktory.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) return std::cerr << "usage: producer JOBTYPE ARG...\n", 64;
  faktory::Client client;  // FAKTORY_URL, else tcp://localhost:7419
  for (int i = 2; i < argc; ++i) {
    auto job = faktory::Job(argv[1]).args(argv[i]);
    if (auto pushed = client.push(job); !pushed) {
      std::cerr << "producer: " << pushed.error().what() << "\n";
      return 69;  // EX_UNAVAILABLE
    }
    std::cout << job.jid() << "\n";
  }
}
