// factotum ctl mutate: the jobs the server moves, what ctl says about it, and the filter that
// matches nothing (Faktory answers OK either way; ctl prints the set's size before and after).
#include "ctl_fixture.hpp"
#include "refusing_server.hpp"

using namespace factotum;
using namespace factotum::testing;

namespace {

// A job of `jobtype` that has failed once: in the retry set (retry > 0) or dead (retry -1).
std::string failed_job(const TestServer& server, const std::string& jobtype, int retry) {
  auto client = producer_for(server);
  auto j = job(jobtype);
  j.retry = retry;
  REQUIRE(client->push(j));
  const std::vector<std::string> queues{"default"};
  auto fetched = client->fetch(queues);
  REQUIRE(fetched);
  REQUIRE(fetched->has_value());
  REQUIRE(client->fail({j.jid, "Boom", "it failed", {}}));
  return j.jid;
}

// An INFO reply whose retry set holds `retries` jobs.
std::string info_with_retries(int retries) {
  return RefusingServer::bulk(
      R"({"faktory":{"queues":{},"sets":{"dead":0,"retries":)" + std::to_string(retries) +
      R"(,"scheduled":0,"working":0}},"server":{"faktory_version":"1.9.4"}})");
}

std::string fate(const TestServer& server, const std::string& jid) {
  const auto fates = server.job_fates();
  const auto it = fates.find(jid);
  return it == fates.end() ? "gone" : it->second;
}

}  // namespace

TEST_CASE("ctl mutate requeue --jobtype puts the matching retries back on their queue") {
  TestServer server(quick_server_options());
  const auto mail1 = failed_job(server, "send_mail", 3);
  const auto mail2 = failed_job(server, "send_mail", 3);
  const auto other = failed_job(server, "resize", 3);
  const auto run =
      run_ctl(server, {"mutate", "requeue", "--target", "retries", "--jobtype", "send_mail"});
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(run.out == "requeue in retries (jobtype 'send_mail'): OK; retries: 3 → 1 job\n");
  CHECK(fate(server, mail1) == "queued");
  CHECK(fate(server, mail2) == "queued");
  CHECK(fate(server, other) == "retry");
}

TEST_CASE("ctl mutate after which the set is no smaller exits 1 saying it seems nothing matched") {
  TestServer server(quick_server_options());
  const auto jid = failed_job(server, "send_mail", 3);
  const auto run =
      run_ctl(server, {"mutate", "requeue", "--target", "retries", "--jobtype", "sendmail"});
  CHECK(run.status == 1);
  CHECK(run.out.empty());
  check_error_line(run, {"requeue in retries (jobtype 'sendmail'): OK, but retries: 1 → 1 job",
                         "seems to have matched nothing", "a guess"});
  CHECK(count_commands(server, "MUTATE") == 1);  // sent, and answered OK
  CHECK(fate(server, jid) == "retry");
}

TEST_CASE("ctl mutate kill --jids moves just those jobs to the dead set") {
  TestServer server(quick_server_options());
  const auto killed = failed_job(server, "send_mail", 3);
  const auto kept = failed_job(server, "send_mail", 3);
  const auto run = run_ctl(server, {"mutate", "kill", "--target", "retries", "--jids", killed});
  REQUIRE(run.status == 0);
  CHECK(run.out == "kill in retries (jids '" + killed + "'): OK; retries: 2 → 1 job\n");
  CHECK(fate(server, killed) == "dead");
  CHECK(fate(server, kept) == "retry");
}

TEST_CASE("ctl mutate discard --all empties the dead set") {
  TestServer server(quick_server_options());
  const auto first = failed_job(server, "send_mail", -1);
  const auto second = failed_job(server, "resize", -1);
  REQUIRE(fate(server, first) == "dead");
  const auto run = run_ctl(server, {"mutate", "discard", "--target", "dead", "--all"});
  REQUIRE(run.status == 0);
  CHECK(run.out == "discard in dead (every job): OK; dead: 2 → 0 jobs\n");
  CHECK(fate(server, first) == "gone");
  CHECK(fate(server, second) == "gone");
}

TEST_CASE("ctl mutate on an empty set exits 1 and sends no MUTATE") {
  TestServer server(quick_server_options());
  const auto run = run_ctl(server, {"mutate", "requeue", "--target", "dead", "--all"});
  CHECK(run.status == 1);
  check_error_line(run, {"the dead set is empty: nothing to requeue"});
  CHECK(count_commands(server, "MUTATE") == 0);
}

TEST_CASE("ctl mutate with an unknown target or operation exits 64 and sends nothing") {
  TestServer server(quick_server_options());
  const auto target = run_ctl(server, {"mutate", "requeue", "--target", "queues", "--all"});
  CHECK(target.status == 64);
  check_error_line(target, {"--target 'queues'", "retries, scheduled or dead"});
  const auto operation = run_ctl(server, {"mutate", "clear", "--target", "dead", "--all"});
  CHECK(operation.status == 64);
  check_error_line(operation, {"mutate 'clear'", "requeue, discard or kill"});
  CHECK(server.command_log().empty());
}

TEST_CASE("ctl mutate --regexp moves the jobs whose JSON matches the glob") {
  TestServer server(quick_server_options());
  const auto mail = failed_job(server, "send_mail", 3);
  const auto other = failed_job(server, "resize", 3);
  const auto run =
      run_ctl(server, {"mutate", "discard", "--target", "retries", "--regexp", "*\"send_*"});
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(run.out == "discard in retries (pattern '*\"send_*'): OK; retries: 2 → 1 job\n");
  CHECK(fate(server, mail) == "gone");
  CHECK(fate(server, other) == "retry");
}

TEST_CASE("ctl mutate kill --target scheduled moves scheduled jobs to the dead set") {
  TestServer server(quick_server_options());
  auto client = producer_for(server);
  auto later = job("nightly_report");
  later.at = "2099-01-01T00:00:00Z";
  auto kept = job("other_report");
  kept.at = "2099-01-01T00:00:00Z";
  REQUIRE(client->push(later));
  REQUIRE(client->push(kept));
  const auto run =
      run_ctl(server, {"mutate", "kill", "--target", "scheduled", "--jobtype", "nightly_report"});
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(run.out == "kill in scheduled (jobtype 'nightly_report'): OK; scheduled: 2 → 1 job\n");
  CHECK(fate(server, later.jid) == "dead");
  CHECK(fate(server, kept.jid) == "scheduled");
}

TEST_CASE("ctl mutate sends --jobtype and --regexp together as one filter") {
  RefusingServer server({info_with_retries(5), "+OK", info_with_retries(3)});
  const auto run = run_ctl({"mutate", "requeue", "--target", "retries", "--jobtype", "send_mail",
                            "--regexp", "*acme*", "--url", server.url()});
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK(run.out ==
        "requeue in retries (jobtype 'send_mail' and pattern '*acme*'): OK; retries: 5 → 3 jobs\n");
  const auto lines = server.received();
  REQUIRE(lines.size() >= 3);
  CHECK(
      lines[2] ==
      R"(MUTATE {"cmd":"requeue","target":"retries","filter":{"jobtype":"send_mail","regexp":"*acme*"}})");
}

TEST_CASE("ctl mutate prints the sizes it saw and never how many jobs matched") {
  // Another client empties the set between the two INFOs: 300 → 0, whatever this filter did.
  RefusingServer server({info_with_retries(300), "+OK", info_with_retries(0)});
  const auto run = run_ctl(
      {"mutate", "requeue", "--target", "retries", "--jobtype", "nosuch", "--url", server.url()});
  CHECK(run.status == 0);
  CHECK(run.out == "requeue in retries (jobtype 'nosuch'): OK; retries: 300 → 0 jobs\n");
  CHECK(run.out.find("matched") == std::string::npos);
  CHECK(run.out.find("requeued") == std::string::npos);
  CHECK(run.err.empty());
}

TEST_CASE("ctl mutate whose INFO after the MUTATE fails says the outcome is unknown") {
  // The connection closes after the MUTATE's +OK: the second INFO finds it closed.
  RefusingServer server({info_with_retries(4), "+OK"});
  const auto run =
      run_ctl({"mutate", "discard", "--target", "retries", "--all", "--url", server.url()});
  CHECK(run.status == 69);
  CHECK(run.out.empty());
  check_error_line(run, {"discard in retries (every job): OK, but INFO after it",
                         "whether jobs left the retries set is unknown", "held 4 jobs"});
}
