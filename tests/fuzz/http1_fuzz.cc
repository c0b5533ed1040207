// libFuzzer target for the HTTP/1.1 parsers of common/: the request head parser the epoll
// servers use (ParseHttp1Request: the emulator, the null responder) and the response parser the
// router uses on whatever a processor sends back (ParseHttp1Response, including faulty
// processors' truncated, dripped and garbage answers). Beyond "no crash, no sanitizer report" it
// checks the contracts the servers and the router's exactly-once classification rely on; any
// violation aborts so libFuzzer keeps the input. Built and run by scripts/fuzz.sh.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http1_request.h"
#include "common/http1_response.h"
#include "tests/fuzz/fuzz_check.h"

namespace rinha {
namespace {

void CheckRequest(std::string_view input) {
  Http1Limits limits;
  limits.max_head_bytes = 1024;
  limits.max_body_bytes = 512;
  const Http1Parse parse = ParseHttp1Request(input, limits);
  switch (parse.outcome) {
    case Http1Parse::Outcome::kIncomplete:
      // Waiting for more is only allowed while within the limits.
      FUZZ_CHECK(parse.consumed == 0);
      break;
    case Http1Parse::Outcome::kError:
      FUZZ_CHECK(parse.error_status == 400 || parse.error_status == 413 ||
                 parse.error_status == 431 || parse.error_status == 501);
      break;
    case Http1Parse::Outcome::kComplete: {
      FUZZ_CHECK(parse.consumed > 0 && parse.consumed <= input.size());
      FUZZ_CHECK(parse.request.body.size() <= limits.max_body_bytes);
      FUZZ_CHECK(!parse.request.method.empty());
      // The request is determined by its own bytes: what follows (a pipelined request,
      // garbage) changes nothing, and a cut inside it is never complete.
      const std::string_view own = input.substr(0, parse.consumed);
      const Http1Parse again = ParseHttp1Request(own, limits);
      FUZZ_CHECK(again.outcome == Http1Parse::Outcome::kComplete);
      FUZZ_CHECK(again.consumed == parse.consumed);
      FUZZ_CHECK(again.request.method == parse.request.method);
      FUZZ_CHECK(again.request.path == parse.request.path);
      FUZZ_CHECK(again.request.body == parse.request.body);
      FUZZ_CHECK(again.request.keep_alive == parse.request.keep_alive);
      const Http1Parse cut = ParseHttp1Request(own.substr(0, own.size() - 1), limits);
      FUZZ_CHECK(cut.outcome != Http1Parse::Outcome::kComplete);
      break;
    }
  }
}

void CheckResponse(std::string_view input) {
  for (bool eof : {false, true}) {
    Http1Response response;
    bool error = false;
    const bool complete = ParseHttp1Response(input, eof, &response, &error);
    FUZZ_CHECK(!(complete && error));
    if (complete) {
      FUZZ_CHECK(response.status >= 100 && response.status <= 999);
      FUZZ_CHECK(response.body.size() <= kMaxHttp1ResponseBytes);
      FUZZ_CHECK(response.body.size() <= input.size());
    }
    // At end of stream nothing is left waiting: a response is complete or it is an error (the
    // router then knows the exchange is over: a broken answer, never a silent hang).
    if (eof) FUZZ_CHECK(complete || error);
    // Without end of stream, more bytes after a complete response do not change it.
    if (!eof && complete) {
      const std::string longer = std::string(input) + "HTTP/1.1 500 X\r\n\r\n";
      Http1Response again;
      bool again_error = false;
      FUZZ_CHECK(ParseHttp1Response(longer, false, &again, &again_error));
      FUZZ_CHECK(again.status == response.status && again.body == response.body);
    }
  }
}

void CheckFormatRoundTrip(std::string_view input) {
  // Any body, any status: what our servers write, our client reads back unchanged.
  const int status = 100 + static_cast<int>(input.size() % 900);
  // 1xx, 204 and 304 answers carry no body.
  if (status < 200 || status == 204 || status == 304) return;
  const std::string body(input.substr(0, std::min<size_t>(input.size(), 4096)));
  const std::string wire = FormatHttp1Response(status, {}, body, false);
  Http1Response response;
  bool error = false;
  FUZZ_CHECK(ParseHttp1Response(wire, false, &response, &error));
  FUZZ_CHECK(!error && response.status == status && response.body == body);
}

}  // namespace
}  // namespace rinha

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  rinha::CheckRequest(input);
  rinha::CheckResponse(input);
  rinha::CheckFormatRoundTrip(input);
  return 0;
}
