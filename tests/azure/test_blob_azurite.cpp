// The blob client against Azurite, Microsoft's storage emulator (tests/node), started here on a
// free loopback port and stopped at the end. Exit 77 (skipped) when Azurite is not installed.
#define BOOST_TEST_MODULE blob_azurite
#define BOOST_TEST_NO_MAIN
#define BOOST_TEST_ALTERNATIVE_INIT_API
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "azure/blob.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/process.hpp"

using namespace amlops;
namespace fs = std::filesystem;

namespace {

const std::string kAccount = "devstoreaccount1";
const std::string kKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fs::path azurite_bin() { return fs::path(AMLOPS_SOURCE_DIR) / "tests/node/node_modules/.bin/azurite-blob"; }

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

struct Azurite {
  files::TempDir dir{"azurite"};
  process::Child child;
  int port = 0;
  std::string service;
  Azurite() {
    port = free_port();
    process::SpawnOptions o;
    o.stdout_file = dir.path() / "azurite.log";
    child =
        process::spawn({azurite_bin().string(), "--blobHost", "127.0.0.1", "--blobPort", std::to_string(port),
                        "--location", (dir.path() / "data").string(), "--skipApiVersionCheck", "--loose", "--silent"},
                       o);
    service = "http://127.0.0.1:" + std::to_string(port) + "/" + kAccount;
    net::Client http;
    for (int i = 0; i < 200; ++i) {
      try {
        net::Request r;
        r.url = service + "?comp=list";
        r.policy = net::RetryPolicy{};
        r.policy->max_attempts = 1;
        auto resp = http.send(r);
        if (resp.status > 0) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("Azurite did not start; log: " + files::read(dir.path() / "azurite.log"));
  }
  ~Azurite() { child.kill_tree(std::chrono::seconds(3)); }
};

Azurite* g_azurite = nullptr;

struct Global {
  Global() { g_azurite = new Azurite(); }
  ~Global() {
    delete g_azurite;
    g_azurite = nullptr;
  }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(Global);

BOOST_AUTO_TEST_CASE(shared_key_put_head_get_range_metadata_list) {
  net::Client http;
  azure::BlobContainer c(http, g_azurite->service + "/code", azure::BlobAuth::with_shared_key(kAccount, kKey));
  c.create_container();
  c.create_container();  // exists: fine
  azure::UploadOptions o;
  o.metadata = {{"name", "a"}};
  c.put_blob("src/train.py", "print('hello')\n", o);
  auto p = c.head("src/train.py");
  BOOST_REQUIRE(p.has_value());
  BOOST_TEST(p->size == 15u);
  BOOST_TEST(p->metadata["name"] == "a");
  BOOST_TEST(!c.head("missing.txt").has_value());
  BOOST_TEST(c.get("src/train.py", std::make_pair(uint64_t(6), std::optional<uint64_t>(12))) == "'hello'");
  BOOST_TEST(c.get("src/train.py", std::make_pair(uint64_t(7), std::optional<uint64_t>())) == "hello')\n");
  c.set_metadata("src/train.py", {{"upload_status", "completed"}, {"version", "1"}});
  BOOST_TEST(c.head("src/train.py")->metadata["upload_status"] == "completed");
  c.put_blob("src/a b/c.txt", "x");
  c.put_blob("other.txt", "y");
  auto items = c.list("src/");
  BOOST_REQUIRE(items.size() == 2u);
  BOOST_TEST(items[0].name == "src/a b/c.txt");
  BOOST_TEST(items[1].name == "src/train.py");
  BOOST_TEST(items[1].metadata["upload_status"] == "completed");
  BOOST_TEST(c.list().size() == 3u);
}

BOOST_AUTO_TEST_CASE(parallel_blocks_roundtrip_and_download) {
  net::Client http;
  azure::BlobContainer c(http, g_azurite->service + "/big", azure::BlobAuth::with_shared_key(kAccount, kKey));
  c.create_container();
  files::TempDir t;
  std::string data;
  for (int i = 0; i < 300000; ++i) data += static_cast<char>('a' + (i * 7 + i / 13) % 26);
  files::write_atomic(t.path() / "big.bin", data);
  azure::UploadOptions o;
  o.block_size = 64 * 1024;
  o.parallelism = 4;
  size_t blocks = c.upload_file("model/big.bin", t.path() / "big.bin", o);
  BOOST_TEST(blocks == 5u);
  BOOST_TEST(c.head("model/big.bin")->size == data.size());
  BOOST_TEST(c.get("model/big.bin") == data);
  c.download("model/big.bin", t.path() / "out/big.bin");
  BOOST_TEST(files::read(t.path() / "out/big.bin") == data);
}

BOOST_AUTO_TEST_CASE(container_sas) {
  net::Client http;
  azure::BlobContainer admin(http, g_azurite->service + "/sas", azure::BlobAuth::with_shared_key(kAccount, kKey));
  admin.create_container();
  std::string sas = azure::make_container_sas(kAccount, kKey, "sas", "racwdl",
                                              std::chrono::system_clock::now() + std::chrono::hours(1));
  auto c = azure::BlobContainer::from_sas_uri(http, g_azurite->service + "/sas?" + sas);
  c.put_blob("x.txt", "sas-data");
  BOOST_TEST(c.get("x.txt") == "sas-data");
  BOOST_TEST(c.list().size() == 1u);
  // A wrong signature is refused with the storage error code.
  azure::BlobContainer bad(http, g_azurite->service + "/sas",
                           azure::BlobAuth::with_shared_key(kAccount, "AAAA" + kKey.substr(4)));
  try {
    bad.put_blob("y.txt", "z");
    BOOST_FAIL("no error");
  } catch (const HttpError& e) {
    BOOST_TEST(e.status() == 403);
  }
}

int main(int argc, char** argv) {
  if (!fs::exists(azurite_bin())) {
    std::cout << "azurite not installed (run npm ci in tests/node): skipped\n";
    return 77;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
