// `pocketlm inspect FILE [--json] [--full]`: what a GGUF file holds — header, metadata in file
// order, tensor table.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "format/gguf_reader.h"
#include "json_writer.h"
#include "quant/types.h"

namespace pocketlm::cli {
namespace {

// Text mode abbreviates what would flood a terminal: vocabularies (tens of thousands of items)
// and chat templates (kilobytes). --full and --json never abbreviate.
constexpr size_t kShownItems = 8;
constexpr size_t kShownStringBytes = 120;

std::string type_label(const GgufValue& v) {
  if (!v.is_array()) return gguf_value_type_name(v.type());
  return std::string("array[") + gguf_value_type_name(v.element_type()) + "]";
}

std::string scalar_text(const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::kBool:
      return *v.as_bool() ? "true" : "false";
    case GgufValueType::kFloat32:
      return strfmt("%.9g", *v.as_float());
    case GgufValueType::kFloat64:
      return strfmt("%.17g", *v.as_float());
    default:
      if (gguf_is_signed(v.type())) return std::to_string(*v.as_int());
      return std::to_string(*v.as_uint());
  }
}

std::string string_text(const std::string& s, bool full) {
  if (full || s.size() <= kShownStringBytes) return JsonWriter::quote(s);
  size_t cut = kShownStringBytes;
  // Cut on a UTF-8 character boundary, not inside a multi-byte sequence.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return JsonWriter::quote(s.substr(0, cut)) + strfmt("... (%zu bytes)", s.size());
}

std::string value_text(const GgufValue& v, bool full) {
  if (v.is_string()) return string_text(*v.as_string(), full);
  if (!v.is_array()) return scalar_text(v);
  size_t n = v.size();
  size_t shown = full ? n : std::min(n, kShownItems);
  std::string out = "[";
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) out += ", ";
    switch (v.element_type()) {
      case GgufValueType::kString:
        out += string_text(v.strings()[i], full);
        break;
      case GgufValueType::kArray:
        out += value_text(v.arrays()[i], full);
        break;
      default:
        out += scalar_text(v.scalar_at(i));
    }
  }
  if (shown < n) out += strfmt(", ... (%zu items)", n);
  return out + "]";
}

std::string shape_text(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    if (d > 0) s += ", ";
    s += std::to_string(t.ne[d]);
  }
  return s + "]";
}

void print_text(const GgufFile& f, const std::string& path, bool full) {
  std::printf("file:      %s\n", path.c_str());
  std::printf("version:   %u\n", f.version());
  std::printf("alignment: %u\n", f.alignment());
  std::printf("data:      byte %" PRIu64 " of %" PRIu64 "\n", f.data_offset(), f.file_size());
  std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
  for (const GgufKv& kv : f.metadata()) {
    std::printf("  %-44s %-14s %s\n", kv.key.c_str(), type_label(kv.value).c_str(),
                value_text(kv.value, full).c_str());
  }
  std::printf("\ntensors (%zu):\n", f.tensors().size());
  std::printf("  %5s  %-44s %-8s %-26s %14s %12s\n", "#", "name", "type", "shape", "offset",
              "bytes");
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    std::printf("  %5zu  %-44s %-8s %-26s %14" PRIu64 " %12" PRIu64 "\n", i, t.name.c_str(),
                type_traits(t.type).name, shape_text(t).c_str(), t.file_offset, t.n_bytes);
  }
}

void json_scalar(JsonWriter& j, const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::kBool:
      j.boolean(*v.as_bool());
      return;
    case GgufValueType::kFloat32:
      j.f32(static_cast<float>(*v.as_float()));
      return;
    case GgufValueType::kFloat64:
      j.f64(*v.as_float());
      return;
    default:
      if (gguf_is_signed(v.type())) {
        j.integer(*v.as_int());
      } else {
        j.uint(*v.as_uint());
      }
  }
}

// An array's items; items that are arrays become {"element_type": ..., "value": [...]} so every
// level keeps its element type.
void json_array_items(JsonWriter& j, const GgufValue& v) {
  j.begin_array();
  for (size_t i = 0; i < v.size(); ++i) {
    switch (v.element_type()) {
      case GgufValueType::kString:
        j.string(v.strings()[i]);
        break;
      case GgufValueType::kArray: {
        const GgufValue& a = v.arrays()[i];
        j.begin_object();
        j.key("element_type");
        j.string(gguf_value_type_name(a.element_type()));
        j.key("value");
        json_array_items(j, a);
        j.end_object();
        break;
      }
      default:
        json_scalar(j, v.scalar_at(i));
    }
  }
  j.end_array();
}

void print_json(const GgufFile& f, const std::string& path) {
  JsonWriter j(stdout);
  j.begin_object();
  j.key("file");
  j.string(path);
  j.key("version");
  j.uint(f.version());
  j.key("alignment");
  j.uint(f.alignment());
  j.key("data_offset");
  j.uint(f.data_offset());
  j.key("file_size");
  j.uint(f.file_size());
  j.key("metadata");
  j.begin_array();
  for (const GgufKv& kv : f.metadata()) {
    j.begin_object();
    j.key("key");
    j.string(kv.key);
    j.key("type");
    j.string(gguf_value_type_name(kv.value.type()));
    if (kv.value.is_array()) {
      j.key("element_type");
      j.string(gguf_value_type_name(kv.value.element_type()));
      j.key("value");
      json_array_items(j, kv.value);
    } else if (kv.value.is_string()) {
      j.key("value");
      j.string(*kv.value.as_string());
    } else {
      j.key("value");
      json_scalar(j, kv.value);
    }
    j.end_object();
  }
  j.end_array();
  j.key("tensors");
  j.begin_array();
  for (const GgufTensorInfo& t : f.tensors()) {
    j.begin_object();
    j.key("name");
    j.string(t.name);
    j.key("type");
    j.string(type_traits(t.type).name);
    j.key("type_id");
    j.uint(static_cast<uint32_t>(t.type));
    j.key("shape");
    j.begin_array();
    for (uint32_t d = 0; d < t.n_dims; ++d) j.integer(t.ne[d]);
    j.end_array();
    j.key("n_elements");
    j.integer(t.n_elements);
    j.key("offset");
    j.uint(t.offset);
    j.key("file_offset");
    j.uint(t.file_offset);
    j.key("bytes");
    j.uint(t.n_bytes);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  j.finish();
}

int run_inspect(const std::vector<std::string>& args) {
  ArgParser p("inspect", "pocketlm inspect FILE [--json] [--full]");
  p.flag("--json", "print everything as JSON (never abbreviated)");
  p.flag("--full", "text mode: show long arrays and strings in full");
  p.epilog(
      "Prints the GGUF header, the metadata in file order and the tensor table (name, type,\n"
      "shape with the contiguous dimension first, absolute data offset, bytes). In JSON, NaN and\n"
      "infinities are the strings \"NaN\", \"Infinity\", \"-Infinity\", and invalid UTF-8 bytes\n"
      "become U+FFFD.");
  ParsedArgs a;
  if (int rc = p.parse(args, 1, 1, &a); rc >= 0) return rc;
  const std::string& path = a.positional[0];
  Result<GgufFile> f = GgufFile::open(path);
  if (!f.ok()) return report_error("inspect", f.status().message(), kExitUsage);
  if (a.has("--json")) {
    print_json(*f, path);
  } else {
    print_text(*f, path, a.has("--full"));
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return report_error("inspect", "writing to stdout failed", kExitFailure);
  }
  return kExitOk;
}

const VerbRegistrar kInspect({"inspect", "Show a GGUF file's metadata and tensor table",
                              run_inspect});

}  // namespace
}  // namespace pocketlm::cli
