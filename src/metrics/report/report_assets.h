// The HTML report's assets, embedded in the binary when CMake configures (CMakeLists.txt here): Chart.js 3.9.1's
// minified bundle (third_party/chartjs, MIT) and the page's own script and style (report_page.js / .css).
#pragma once

#include <string_view>

namespace loom::metrics::report {

extern const std::string_view chart_js;
extern const std::string_view report_page_js;
extern const std::string_view report_page_css;

}  // namespace loom::metrics::report
