// producer JOBTYPE ARG...: pushes one job per ARG and prints its jid (FAKTORY_URL: the server).
#include <factotum/faktory.hpp>
#include <iostream>

int main(int argc, char** argv) {
  faktory::Client client;  // FAKTORY_URL, else tcp://localhost:7419
  for (int i = 2; i < argc; ++i) {
    auto job = faktory::Job(argv[1]).args(argv[i]);
    if (auto pushed = client.push(job); !pushed)
      return std::cerr << pushed.error().what() << "\n", 69;
    std::cout << job.jid() << "\n";
  }
}
