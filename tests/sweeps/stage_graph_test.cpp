#include "sweeps/stage_graph.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/error.h"

namespace ptqat::sweeps {
namespace {

TEST(StageGraph, EqualKeysMergeAndThePlanShowsTheTreeWithRecordedStages) {
  StageGraph graph;
  graph.add({"f", "", "float_train", "", 0, ""});
  graph.add({"c4", "f", "calibrate", "bits=4", 0, ""});
  graph.add({"q4", "c4", "fine_tune", "qat", 0, ""});
  graph.add({"f", "", "float_train", "", 1, ""});  // the next point's float stage: the same one
  graph.add({"c4", "f", "calibrate", "bits=4", 1, ""});
  graph.add({"p4", "c4", "fine_tune", "ptqat", 1, ""});
  graph.add({"c8", "f", "calibrate", "bits=8", 2, ""});
  ASSERT_EQ(graph.nodes().size(), 5u);
  EXPECT_EQ(graph.nodes()[1].point, 0u);  // the first point that needed it runs it
  EXPECT_EQ(graph.children(graph.index_of("c4")), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(graph.index_of("nope"), -1);

  std::ostringstream plan;
  graph.print_plan(plan, [](const std::string& key) { return key == "f" || key == "c4"; });
  const std::string text = plan.str();
  EXPECT_NE(text.find("done   calibrate  c4  bits=4"), std::string::npos) << text;
  EXPECT_NE(text.find("         fine_tune  p4  ptqat"), std::string::npos) << text;
  EXPECT_NE(text.find("5 stages (2 calibrate, 2 fine_tune, 1 float_train); 2 recorded, 3 to run"),
            std::string::npos)
      << text;
  // The bits=8 calibration comes after the whole bits=4 subtree.
  EXPECT_LT(text.find("p4"), text.find("c8"));
}

TEST(StageGraph, AChildBeforeItsParentIsABug) {
  StageGraph graph;
  EXPECT_THROW(graph.add({"c", "f", "calibrate", "", 0, ""}), InternalError);
}

}  // namespace
}  // namespace ptqat::sweeps
