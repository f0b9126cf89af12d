#include "common/retry_after.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <string>

namespace dbr {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A run of `digits` decimal digits (exactly, or 1..digits when `at_most`).
std::optional<int> take_number(std::string_view& s, std::size_t digits, bool at_most = false) {
  std::size_t n = 0;
  int value = 0;
  while (n < digits && n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) {
    value = value * 10 + (s[n] - '0');
    ++n;
  }
  if (n == 0 || (!at_most && n != digits)) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

bool take(std::string_view& s, std::string_view literal) {
  if (s.substr(0, literal.size()) != literal) return false;
  s.remove_prefix(literal.size());
  return true;
}

std::optional<unsigned> take_month(std::string_view& s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (take(s, kMonths[i])) return i + 1;
  return std::nullopt;
}

bool take_day_name(std::string_view& s, bool long_form) {
  static constexpr std::array<std::string_view, 7> kShort = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 7> kLong = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                            "Friday", "Saturday", "Sunday"};
  for (std::size_t i = 0; i < 7; ++i)
    if (take(s, long_form ? kLong[i] : kShort[i])) return true;
  return false;
}

// "hh:mm:ss"
std::optional<std::chrono::seconds> take_time(std::string_view& s) {
  auto h = take_number(s, 2);
  if (!h || !take(s, ":")) return std::nullopt;
  auto m = take_number(s, 2);
  if (!m || !take(s, ":")) return std::nullopt;
  auto sec = take_number(s, 2);
  // "second = 2DIGIT" allows a leap second 60.
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return std::chrono::hours(*h) + std::chrono::minutes(*m) + std::chrono::seconds(*sec);
}

std::optional<std::chrono::sys_seconds> make_time(int year, unsigned month, int day, std::chrono::seconds tod) {
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd) + tod;
}

// The two forms that start with a day name and a comma (RFC 9110 §5.6.7):
//   IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
//   rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"
// They differ in the day name's length, the separator and the year's digits.
enum class CommaDate { ImfFixdate, Rfc850 };

std::optional<std::chrono::sys_seconds> comma_date(std::string_view s, CommaDate form) {
  const bool rfc850 = form == CommaDate::Rfc850;
  const std::string_view separator = rfc850 ? "-" : " ";
  if (!take_day_name(s, rfc850) || !take(s, ", ")) return std::nullopt;
  auto day = take_number(s, 2);
  if (!day || !take(s, separator)) return std::nullopt;
  auto month = take_month(s);
  if (!month || !take(s, separator)) return std::nullopt;
  auto year = take_number(s, rfc850 ? 2 : 4);
  if (!year || !take(s, " ")) return std::nullopt;
  auto tod = take_time(s);
  if (!tod || !take(s, " GMT") || !s.empty()) return std::nullopt;
  // Two-digit years: a timestamp "more than 50 years in the future" is the
  // past century's (RFC 9110 §5.6.7); this form died long before 2050, so
  // 70-99 are 19xx and 00-69 are 20xx.
  if (rfc850) year = *year >= 70 ? 1900 + *year : 2000 + *year;
  return make_time(*year, *month, *day, *tod);
}

// asctime-date: "Sun Nov  6 08:49:37 1994"
std::optional<std::chrono::sys_seconds> asctime_date(std::string_view s) {
  if (!take_day_name(s, false) || !take(s, " ")) return std::nullopt;
  auto month = take_month(s);
  if (!month || !take(s, " ")) return std::nullopt;
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);  // "( 2DIGIT / ( SP DIGIT ))"
  auto day = take_number(s, 2, true);
  if (!day || !take(s, " ")) return std::nullopt;
  auto tod = take_time(s);
  if (!tod || !take(s, " ")) return std::nullopt;
  auto year = take_number(s, 4);
  if (!year || !s.empty()) return std::nullopt;
  return make_time(*year, *month, *day, *tod);
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) {
  text = trim(text);
  if (auto t = comma_date(text, CommaDate::ImfFixdate)) return t;
  if (auto t = comma_date(text, CommaDate::Rfc850)) return t;
  return asctime_date(text);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::optional<std::string_view> date_header) {
  // Absurd values are capped rather than trusted (or overflowed).
  constexpr long long kCapSeconds = 7 * 24 * 3600;
  value = trim(value);
  if (value.empty()) return std::nullopt;
  bool all_digits = true;
  for (char c : value) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    // "delay-seconds = 1*DIGIT"
    long long n = 0;
    for (char c : value) {
      n = n * 10 + (c - '0');
      if (n > kCapSeconds) return std::chrono::seconds(kCapSeconds);
    }
    return std::chrono::seconds(n);
  }
  auto at = parse_http_date(value);
  if (!at || !date_header) return std::nullopt;
  auto now = parse_http_date(*date_header);
  if (!now) return std::nullopt;
  if (*at <= *now) return std::chrono::seconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::seconds>(*at - *now), std::chrono::seconds(kCapSeconds));
}

std::string utc_text(std::chrono::sys_seconds t) {
  std::time_t secs = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return "?";
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace dbr
