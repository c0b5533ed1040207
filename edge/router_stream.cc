#include "edge/router_stream.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/backoff.h"
#include "common/log.h"

namespace rinha::edge {

absl::Duration ReconnectBackoff(absl::Duration initial, absl::Duration max, int failures) {
  return BackoffDelay(initial, max, failures);
}

std::unique_ptr<RouterStream> RouterStream::Start(std::shared_ptr<grpc::Channel> channel,
                                                  const Options& options) {
  std::unique_ptr<RouterStream> stream(new RouterStream(std::move(channel), options));
  stream->sender_ = std::thread([s = stream.get()] { s->Run(); });
  return stream;
}

RouterStream::RouterStream(std::shared_ptr<grpc::Channel> channel, const Options& options)
    : options_(options), stub_(rinha::v1::Router::NewStub(std::move(channel))) {}

RouterStream::~RouterStream() { Shutdown(absl::ZeroDuration()); }

bool RouterStream::Enqueue(rinha::v1::Payment payment) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!accepting_ || static_cast<size_t>(stats_.pending) >= options_.max_pending) {
      ++stats_.refused;
      return false;
    }
    queued_.push_back(std::move(payment));
    wake = queued_.size() == 1 || queued_.size() == options_.max_batch;
    ++stats_.pending;
  }
  if (wake) wake_.notify_all();
  return true;
}

RouterStream::Stats RouterStream::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void RouterStream::Shutdown(absl::Duration drain) {
  int64_t left = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    accepting_ = false;
    wake_.notify_all();  // a sender waiting out its batch window sends now
    if (drain > absl::ZeroDuration()) {
      wake_.wait_for(lock, absl::ToChronoNanoseconds(drain), [&] { return stats_.pending == 0; });
    }
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
    left = stats_.pending;
  }
  wake_.notify_all();
  if (sender_.joinable()) {
    sender_.join();
    if (left > 0) {
      RINHA_LOG_ERROR("edge: router stream stopped with %d payments undelivered", left);
    }
  }
}

void RouterStream::Run() {
  int failures = 0;
  while (true) {
    grpc::Status status;
    failures = RunStream(&status) ? 1 : failures + 1;
    // Once per outage (and then now and then), not once per attempt.
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED &&
        (failures == 1 || failures % 60 == 0)) {
      RINHA_LOG_WARNING("edge: router stream failed (%d in a row): %s", failures,
                        status.error_message());
    }
    const absl::Duration delay =
        ReconnectBackoff(options_.initial_backoff, options_.max_backoff, failures);
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_for(lock, absl::ToChronoNanoseconds(delay), [&] { return stopping_; })) {
      return;
    }
  }
}

bool RouterStream::RunStream(grpc::Status* status) {
  grpc::ClientContext context;
  std::vector<BatchPtr> resend;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      *status = grpc::Status::CANCELLED;
      return false;
    }
    context_ = &context;
    stream_broken_ = false;
    ++stats_.streams;
    for (const auto& [id, batch] : unacked_) resend.push_back(batch);
  }
  std::unique_ptr<grpc::ClientReaderWriter<rinha::v1::PaymentBatch, rinha::v1::PaymentAck>>
      stream = stub_->Submit(&context);

  bool acked_any = false;  // written by the reader, read after join()
  std::thread reader([&] {
    rinha::v1::PaymentAck ack;
    while (stream->Read(&ack)) {
      std::lock_guard<std::mutex> lock(mu_);
      acked_any = true;
      auto it = unacked_.find(ack.batch_id());
      if (it == unacked_.end()) continue;  // a duplicate acknowledgement
      const int64_t n = it->second->payments_size();
      unacked_.erase(it);
      stats_.pending -= n;
      stats_.unacked -= n;
      ++stats_.batches_acked;
      if (stats_.pending == 0) wake_.notify_all();  // a draining Shutdown waits for this
    }
    std::lock_guard<std::mutex> lock(mu_);
    stream_broken_ = true;
    wake_.notify_all();
  });

  bool writable = true;
  for (const BatchPtr& batch : resend) {
    if (!stream->Write(*batch)) {
      writable = false;
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.resent;
    ++stats_.batches_sent;
  }
  while (writable) {
    auto batch = std::make_shared<rinha::v1::PaymentBatch>();
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return !queued_.empty() || stream_broken_ || stopping_; });
      if (stream_broken_ || stopping_) break;
      if (options_.batch_window > absl::ZeroDuration() && queued_.size() < options_.max_batch) {
        // Enqueue wakes the sender only on empty -> non-empty, so this sleeps the whole window
        // unless the batch fills up or the stream ends.
        wake_.wait_for(lock, absl::ToChronoNanoseconds(options_.batch_window), [&] {
          return queued_.size() >= options_.max_batch || stream_broken_ || stopping_ ||
                 !accepting_;
        });
        if (stream_broken_ || stopping_) break;
      }
      const size_t n = std::min(queued_.size(), options_.max_batch);
      batch->mutable_payments()->Reserve(static_cast<int>(n));
      for (size_t i = 0; i < n; ++i) {
        *batch->add_payments() = std::move(queued_.front());
        queued_.pop_front();
      }
      batch->set_batch_id(next_batch_id_++);
      unacked_.emplace(batch->batch_id(), batch);
      stats_.unacked += static_cast<int64_t>(n);
      ++stats_.batches_sent;
    }
    // Outside the lock: HTTP threads keep enqueueing while this write is in progress. The
    // batch stays alive through `batch` even if it is acknowledged before Write returns.
    writable = stream->Write(*batch);
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    context.TryCancel();  // ends the reader's Read
  }
  reader.join();
  *status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
  }
  return acked_any;
}

}  // namespace rinha::edge
