// RequestReader: requests from bytes in any cut, limits checked as bytes
// arrive (before the line or head that breaks them is complete), pipelined
// requests kept in order.
#include <catch2/catch.hpp>
#include <string>

#include "prescale/kubernetes/request_reader.hpp"

using namespace prescale::kubernetes;
using State = RequestReader::State;

TEST_CASE("a request read at once or byte by byte is the same request", "[request_reader]") {
  const std::string text =
      "GET /apis/external.metrics.k8s.io/v1beta1?x=1 HTTP/1.1\r\nHost: a\r\n"
      "X-Remote-User: bob\r\nX-Remote-Group: g1\r\nX-Remote-Group: g2\r\n\r\n";
  RequestReader whole;
  REQUIRE(whole.feed(text) == State::complete);
  const HttpRequest request = whole.take();
  CHECK(request.method == "GET");
  CHECK(request.target == "/apis/external.metrics.k8s.io/v1beta1?x=1");
  CHECK(request.version == 11);
  CHECK(request.keep_alive);
  REQUIRE(request.headers.size() == 4);
  CHECK(request.headers[2] == std::pair<std::string, std::string>{"X-Remote-Group", "g1"});
  CHECK(request.headers[3].second == "g2");  // repeated fields kept apart, in order
  CHECK(whole.state() == State::need_more);
  CHECK_FALSE(whole.partial());

  RequestReader bytes;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    REQUIRE(bytes.feed(text.substr(i, 1)) == State::need_more);
    CHECK(bytes.partial());  // the request deadline runs from the first byte
  }
  REQUIRE(bytes.feed(text.substr(text.size() - 1)) == State::complete);
  const HttpRequest again = bytes.take();
  CHECK(again.target == request.target);
  CHECK(again.headers == request.headers);
}

TEST_CASE("pipelined requests come out one at a time, in order", "[request_reader]") {
  RequestReader reader;
  REQUIRE(reader.feed("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
                      "GET /c HTTP/1.0\r\n\r\nGET /d") == State::complete);
  CHECK(reader.take().target == "/a");
  REQUIRE(reader.state() == State::complete);
  const HttpRequest post = reader.take();
  CHECK(post.target == "/b");
  CHECK(post.body == "xyz");
  REQUIRE(reader.state() == State::complete);
  const HttpRequest old = reader.take();
  CHECK(old.target == "/c");
  CHECK_FALSE(old.keep_alive);  // HTTP/1.0 without keep-alive
  CHECK(reader.state() == State::need_more);
  CHECK(reader.partial());  // "GET /d" waits for the rest
  REQUIRE(reader.feed(" HTTP/1.1\r\n\r\n") == State::complete);
  CHECK(reader.take().target == "/d");
}

TEST_CASE("chunked bodies are refused (411); empty lines before a request are skipped",
          "[request_reader]") {
  RequestReader chunked;
  REQUIRE(chunked.feed("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n") ==
          State::rejected);
  CHECK(chunked.rejection().status == 411);
  CHECK(chunked.rejection().reason == "LengthRequired");

  RequestReader reader;
  REQUIRE(reader.feed("POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n\r\n"
                      "GET /next HTTP/1.1\r\n\r\n") == State::complete);
  CHECK(reader.take().body == "ok");
  REQUIRE(reader.state() == State::complete);
  CHECK(reader.take().target == "/next");
}

TEST_CASE("a long request line is refused with 414 before it ends", "[request_reader]") {
  RequestLimits limits;
  limits.max_uri_length = 100;
  RequestReader reader(limits);
  // Not finished (no CRLF), yet past the limit: refused now, not at its end.
  REQUIRE(reader.feed("GET /" + std::string(200, 'a')) == State::rejected);
  CHECK(reader.rejection().status == 414);
  CHECK(reader.rejection().reason == "RequestURITooLong");
  CHECK(reader.feed("more") == State::rejected);  // later bytes change nothing

  RequestReader exact(limits);
  REQUIRE(exact.feed("GET /" + std::string(99, 'a') + " HTTP/1.1\r\n\r\n") == State::complete);
  RequestReader over(limits);
  REQUIRE(over.feed("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n") == State::rejected);
  CHECK(over.rejection().status == 414);
}

TEST_CASE("header bytes and lines are counted as they arrive (431)", "[request_reader]") {
  RequestLimits limits;
  limits.max_header_bytes = 1000;
  limits.max_header_fields = 10;
  SECTION("one endless header line") {
    RequestReader reader(limits);
    REQUIRE(reader.feed("GET / HTTP/1.1\r\nX-Pad: ") == State::need_more);
    REQUIRE(reader.feed(std::string(2000, 'b')) == State::rejected);
    CHECK(reader.rejection().status == 431);
    CHECK(reader.rejection().reason == "RequestHeaderFieldsTooLarge");
    CHECK(reader.buffered() < 4096);
  }
  SECTION("many small lines, never an end") {
    RequestReader reader(limits);
    reader.feed("GET / HTTP/1.1\r\n");
    State state = State::need_more;
    int lines = 0;
    while (state == State::need_more && lines < 1000) {
      state = reader.feed("A: b\r\n");
      ++lines;
    }
    CHECK(state == State::rejected);
    CHECK(lines == 11);  // the 11th line is one too many
    CHECK(reader.rejection().status == 431);
  }
  SECTION("exactly at the limits is accepted") {
    RequestReader reader(limits);
    std::string head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 10; ++i) head += "A: " + std::string(93, 'x') + "\r\n";  // 100 bytes each
    REQUIRE(reader.feed(head + "\r\n") == State::complete);
    CHECK(reader.take().headers.size() == 10);
  }
}

TEST_CASE("bodies over the limit are 413; malformed requests 400", "[request_reader]") {
  RequestLimits limits;
  limits.max_body_bytes = 10;
  RequestReader large(limits);
  REQUIRE(large.feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n") == State::rejected);
  CHECK(large.rejection().status == 413);
  RequestReader streamed(limits);
  REQUIRE(streamed.feed("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345") == State::complete);
  REQUIRE(streamed.feed("") == State::complete);

  for (const std::string bad :
       {"GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\nHost: x\n\n", "GET / FTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
    INFO(bad);
    RequestReader reader;
    CHECK(reader.feed(bad) == State::rejected);
    CHECK(reader.rejection().status == 400);
  }
}
