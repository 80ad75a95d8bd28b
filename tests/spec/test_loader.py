"""The strict YAML loader, ``extends:`` resolution, provenance and per-stage block overrides.

DESIGN §7.7: the loader subclasses SafeLoader, reads YAML 1.2 booleans and ``1e9`` floats, has no
octal, rejects duplicate keys and Python tags, and records where every key was set.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from archprobe.blocks.basic import BasicParams
from archprobe.blocks.bottleneck import BottleneckParams
from archprobe.blocks.stems import Conv7x7Params
from archprobe.errors import SourceLoc, SpecError
from archprobe.graph.ops import Conv
from archprobe.spec import load_spec
from archprobe.spec.expand import expand
from archprobe.spec.strict_yaml import load_yaml

R50_LIKE = """\
name: base50
stem: {type: conv7x7, width: 64, pool: max}
block: {type: bottleneck, groups: 1, width_per_group: 64, stride_on: 1x1}
stages:
  - {depth: 3, width: 256, stride: 1}
  - {depth: 4, width: 512, stride: 2}
  - {depth: 6, width: 1024, stride: 2}
  - {depth: 3, width: 2048, stride: 2}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def read(tmp_path: Path, text: str) -> Any:
    path = write(tmp_path, "doc.yaml", text)
    data, _ = load_yaml(path.read_text(encoding="utf-8"), path)
    return data


def at(err: SpecError) -> tuple[int, int]:
    assert err.loc is not None
    return err.loc.line, err.loc.col


def bneck(params: object) -> BottleneckParams:
    assert isinstance(params, BottleneckParams)
    return params


def stem7(params: object) -> Conv7x7Params:
    assert isinstance(params, Conv7x7Params)
    return params


def raises_at(tmp_path: Path, text: str) -> SpecError:
    path = write(tmp_path, "doc.yaml", text)
    with pytest.raises(SpecError) as info:
        load_yaml(path.read_text(encoding="utf-8"), path)
    assert info.value.loc is not None
    assert info.value.loc.file == path
    return info.value


# --- YAML footguns ------------------------------------------------------------------------------


def test_exponent_without_dot_is_a_float(tmp_path: Path) -> None:
    # PyYAML's YAML 1.1 resolver reads `1e9` as the *string* '1e9'.
    data = read(tmp_path, "a: 1e9\nb: 2.5e-3\nc: -1E+2\nd: .5\n")
    assert data == {"a": 1e9, "b": 2.5e-3, "c": -100.0, "d": 0.5}
    assert all(isinstance(v, float) for v in data.values())


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n", "On", "YES", "Off", "No"])
def test_yaml11_booleans_stay_strings(tmp_path: Path, word: str) -> None:
    assert read(tmp_path, f"a: {word}\n") == {"a": word}


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("false", False), ("True", True), ("FALSE", False)]
)
def test_only_true_and_false_are_booleans(tmp_path: Path, word: str, value: bool) -> None:
    data = read(tmp_path, f"a: {word}\n")
    assert data == {"a": value}
    assert isinstance(data["a"], bool)


def test_leading_zero_number_is_an_error_not_octal(tmp_path: Path) -> None:
    # PyYAML reads `017` as 15.
    err = raises_at(tmp_path, "name: x\nstem:\n  width: 017\n")
    assert at(err) == (3, 10)
    assert err.key_path == "stem.width"
    assert "'017'" in err.message
    assert "write 17 (decimal) or 0o17 (octal)" in err.message


def test_explicit_octal_is_accepted(tmp_path: Path) -> None:
    assert read(tmp_path, "a: 0o17\nb: 0x1F\nc: 0\nd: -12\n") == {
        "a": 15,
        "b": 31,
        "c": 0,
        "d": -12,
    }


def test_quoted_leading_zero_is_a_string(tmp_path: Path) -> None:
    assert read(tmp_path, "a: '017'\n") == {"a": "017"}


def test_timestamps_and_underscored_numbers_stay_strings(tmp_path: Path) -> None:
    assert read(tmp_path, "a: 2016-12-10\nb: 1_000\n") == {"a": "2016-12-10", "b": "1_000"}


def test_duplicate_key_is_located_at_the_second_and_names_the_first(tmp_path: Path) -> None:
    # PyYAML silently keeps the last value.
    err = raises_at(
        tmp_path, "name: a\nblock: {type: basic}\nhead: {}\nblock: {type: bottleneck}\n"
    )
    assert at(err) == (4, 1)
    assert err.key_path == "block"
    assert f"first set at {tmp_path / 'doc.yaml'}:2:1" in err.message


def test_duplicate_key_inside_a_flow_mapping(tmp_path: Path) -> None:
    err = raises_at(tmp_path, "stages:\n  - {depth: 2, stride: 1, stride: 2}\n")
    assert at(err) == (2, 27)
    assert err.key_path == "stages.0.stride"
    assert f"first set at {tmp_path / 'doc.yaml'}:2:16" in err.message


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/object:collections.OrderedDict {}",
        "!!python/tuple [1, 2]",
        "!custom 3",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
    ],
)
def test_python_and_custom_tags_are_rejected(tmp_path: Path, value: str) -> None:
    err = raises_at(tmp_path, f"name: x\nstem: {value}\n")
    assert "is not allowed in spec files" in err.message
    assert err.key_path == "stem"
    assert at(err) == (2, 7)


def test_merge_keys_are_rejected(tmp_path: Path) -> None:
    err = raises_at(tmp_path, "base: &b {type: basic}\nblock:\n  <<: *b\n  groups: 2\n")
    assert "merge keys" in err.message
    assert "extends" in err.message
    assert at(err) == (3, 3)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: !!bool yes\n", "'yes' is not a valid bool"),
        ("a: !!int abc\n", "'abc' is not a valid int"),
        ("a: !!int '017'\n", "ambiguous number '017'"),
        ("a: !!float x\n", "'x' is not a valid float"),
        ("a: !!map x\n", "cannot be used on a single value"),
    ],
)
def test_explicit_scalar_tags_follow_yaml12(tmp_path: Path, text: str, fragment: str) -> None:
    err = raises_at(tmp_path, text)
    assert fragment in err.message
    assert at(err) == (1, 4)


def test_explicit_scalar_tags_that_fit_are_read(tmp_path: Path) -> None:
    data = read(tmp_path, "a: !!int '12'\nb: !!float 1\nc: !!str 12\nd: !!bool true\n")
    assert data == {"a": 12, "b": 1.0, "c": "12", "d": True}
    assert isinstance(data["b"], float)


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    err = raises_at(tmp_path, "name: x\nstem: {type: conv7x7, width: 64\nblock: {type: basic}\n")
    assert err.message.startswith("YAML syntax error: ")
    assert at(err) == (3, 6)
    assert f"{tmp_path / 'doc.yaml'}:2:7" in err.message  # where the unclosed mapping began


def test_tab_indentation_is_explained(tmp_path: Path) -> None:
    err = raises_at(tmp_path, "block:\n\ttype: basic\n")
    assert "tabs" in err.message
    assert at(err) == (2, 1)


def test_control_character_is_located(tmp_path: Path) -> None:
    err = raises_at(tmp_path, "a: 1\nname: \x1b[0m\n")
    assert "U+001B" in err.message
    assert at(err) == (2, 7)


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "a: &x {b: *x}\n", "a: " + "[" * 5000 + "\n"])
def test_recursive_alias_and_deep_nesting_are_spec_errors(tmp_path: Path, text: str) -> None:
    raises_at(tmp_path, text)


def test_non_string_keys_are_rejected(tmp_path: Path) -> None:
    err = raises_at(tmp_path, "stages:\n  1: {depth: 2}\n")
    assert "keys must be strings" in err.message
    assert at(err) == (2, 3)


def test_every_key_path_records_key_and_value_locations(tmp_path: Path) -> None:
    path = write(tmp_path, "doc.yaml", "name: x\nblock:\n  groups: 32\nstages:\n  - {depth: 3}\n")
    _, smap = load_yaml(path.read_text(encoding="utf-8"), path)
    assert smap[("block", "groups")].key == SourceLoc(path, 3, 3)
    assert smap[("block", "groups")].value == SourceLoc(path, 3, 11)
    assert smap[("stages", 0)].key is None
    assert smap[("stages", 0)].value == SourceLoc(path, 5, 5)
    assert smap[("stages", 0, "depth")].value == SourceLoc(path, 5, 13)


def test_non_utf8_file_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: r50\n# He\xe9\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.loc == SourceLoc(path, 2, 5)
    assert "UTF-8" in info.value.message


# --- extends: ------------------------------------------------------------------------------------


def test_extends_deep_merges_mappings(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE)
    child = write(
        tmp_path,
        "child.yaml",
        "extends: base.yaml\nname: child\nblock: {groups: 32, width_per_group: 4}\n",
    )
    spec = load_spec(child)
    assert spec.block.type == "bottleneck"
    assert bneck(spec.block).groups == 32
    assert bneck(spec.block).width_per_group == 4
    assert bneck(spec.block).stride_on == "1x1"  # kept from the base
    assert stem7(spec.stem).width == 64


def test_extends_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE)
    child = write(
        tmp_path,
        "child.yaml",
        """\
        extends: base.yaml
        name: child
        stages:
          - {depth: 1, width: 256, stride: 1}
          - {depth: 1, width: 512, stride: 2}
        """,
    )
    spec = load_spec(child)
    assert [(s.depth, s.width) for s in spec.stages] == [(1, 256), (1, 512)]


def test_null_replaces_an_inherited_value(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE + 'paper: "somewhere"\n')
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\npaper: null\n")
    assert load_spec(child).paper is None


def test_extends_a_catalog_name(tmp_path: Path) -> None:
    child = write(
        tmp_path,
        "x50.yaml",
        "extends: resnet50\nname: my_x50\nblock: {groups: 32, width_per_group: 4}\n",
    )
    spec, r50 = load_spec(child), load_spec("resnet50")
    assert spec.stages == tuple(s.model_copy(update={"block": spec.block}) for s in r50.stages)
    assert spec.stem == r50.stem
    assert bneck(spec.block).groups == 32


def test_extends_a_relative_path(tmp_path: Path) -> None:
    write(tmp_path, "bases/r50.yaml", R50_LIKE)
    child = write(tmp_path, "models/x50.yaml", "extends: ../bases/r50.yaml\nname: x50\n")
    assert len(load_spec(child).stages) == 4


def test_extends_list_applies_left_to_right_then_the_child(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE)
    write(tmp_path, "t1.yaml", "block: {groups: 2, stride_on: 3x3}\nhead: {classes: 10}\n")
    write(tmp_path, "t2.yaml", "block: {groups: 4, width_per_group: 8}\n")
    child = write(
        tmp_path,
        "child.yaml",
        "extends: [base.yaml, t1.yaml, t2.yaml]\nname: child\nblock: {width_per_group: 16}\n",
    )
    spec = load_spec(child)
    assert bneck(spec.block).groups == 4  # t2 over t1
    assert bneck(spec.block).stride_on == "3x3"  # t1 over base
    assert bneck(spec.block).width_per_group == 16  # child over t2
    assert spec.head.classes == 10


def test_name_and_aliases_are_not_inherited(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE + "aliases: [b50, b50v1]\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\n")
    assert load_spec(child).aliases == ()
    nameless = write(tmp_path, "nameless.yaml", "extends: base.yaml\nhead: {classes: 10}\n")
    with pytest.raises(SpecError) as info:
        load_spec(nameless)
    assert info.value.key_path == "name"
    assert "missing required key 'name'" in info.value.message
    assert info.value.loc == SourceLoc(nameless, 1, 1)


def test_extends_cycle_names_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    b = write(tmp_path, "b.yaml", "name: b\nextends: ./a.yaml\n")
    with pytest.raises(SpecError) as info:
        load_spec(a)
    assert "extends cycle: a.yaml -> b.yaml -> a.yaml" in info.value.message
    assert info.value.loc == SourceLoc(b, 2, 10)
    assert info.value.key_path == "extends"


def test_three_file_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: c.yaml\n")
    c = write(tmp_path, "c.yaml", "extends: [a.yaml]\n")
    with pytest.raises(SpecError) as info:
        load_spec(a)
    assert "a.yaml -> b.yaml -> c.yaml -> a.yaml" in info.value.message
    assert info.value.loc == SourceLoc(c, 1, 11)
    assert info.value.key_path == "extends.0"


def test_self_extends_is_a_cycle(tmp_path: Path) -> None:
    me = write(tmp_path, "me.yaml", "name: me\nextends: me.yaml\n")
    with pytest.raises(SpecError) as info:
        load_spec(me)
    assert "extends cycle: me.yaml -> me.yaml" in info.value.message
    assert info.value.loc == SourceLoc(me, 2, 10)


def test_diamond_is_not_a_cycle(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE)
    write(tmp_path, "t1.yaml", "extends: base.yaml\nblock: {groups: 2}\n")
    write(tmp_path, "t2.yaml", "extends: base.yaml\nhead: {classes: 10}\n")
    child = write(tmp_path, "child.yaml", "extends: [t1.yaml, t2.yaml]\nname: child\n")
    spec = load_spec(child)
    assert bneck(spec.block).groups == 1  # t2 re-applies base's groups
    assert spec.head.classes == 10


def test_missing_base_file_is_located_at_extends(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "name: child\nextends: [resnet50, ./nope.yaml]\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert "spec file './nope.yaml' not found" in info.value.message
    assert info.value.loc == SourceLoc(child, 2, 21)
    assert info.value.key_path == "extends.1"


def test_unknown_catalog_name_suggests_a_close_one(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "extends: resnxt50_32x4d\nname: child\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert "unknown spec 'resnxt50_32x4d'; did you mean 'resnext50_32x4d'" in info.value.message
    assert info.value.loc == SourceLoc(child, 1, 10)


def test_error_in_a_base_file_says_which_child_extends_it(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "name: b\nname: c\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert info.value.loc == SourceLoc(base, 2, 1)
    assert f"in a base of {child}, extends 'base.yaml' at {child}:1:10" in info.value.format()
    assert str(info.value) == info.value.format()


# --- provenance after extends --------------------------------------------------------------------


def test_error_on_an_inherited_key_points_at_the_base_file(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", R50_LIKE.replace("stride_on: 1x1", "stride_on: 1x2"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\nblock: {groups: 32}\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert info.value.loc == SourceLoc(base, 3, 70)
    assert info.value.key_path == "block.stride_on"
    assert info.value.format().count("\n") == 0  # reported once, not once more per stage


def test_error_on_an_inherited_stage_points_at_the_base_file(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", R50_LIKE.replace("{depth: 6,", "{depth: -6,"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\nblock: {groups: 32}\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert info.value.loc == SourceLoc(base, 7, 13)
    assert info.value.key_path == "stages.2.depth"


def test_error_on_an_overridden_key_points_at_the_child_file(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", R50_LIKE)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\nblock: {groups: 0}\n")
    with pytest.raises(SpecError) as info:
        load_spec(child)
    assert info.value.loc == SourceLoc(child, 3, 17)
    assert info.value.key_path == "block.groups"
    assert info.value.message == "Input should be greater than or equal to 1 (got 0)"


def test_source_map_follows_the_file_that_set_each_key(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", R50_LIKE)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\nblock: {groups: 32}\n")
    source = load_spec(child).source
    assert source[("block", "groups")].value == SourceLoc(child, 3, 17)
    assert source[("block", "stride_on")].value.file == base
    assert source[("stages", 1)].value == SourceLoc(base, 6, 5)
    assert source[("name",)].value == SourceLoc(child, 2, 7)
    assert ("extends",) not in source


# --- per-stage block overrides -------------------------------------------------------------------


def test_stage_entry_overrides_the_block_for_that_stage_only(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mixed.yaml",
        """\
        name: mixed
        stem: {type: conv7x7}
        block: {type: bottleneck, groups: 32, width_per_group: 4}
        stages:
          - {depth: 3, width: 256, stride: 1, groups: 1}
          - {depth: 4, width: 512, stride: 2}
        """,
    )
    spec = load_spec(path)
    assert bneck(spec.block).groups == 32
    assert bneck(spec.stages[0].block).groups == 1
    assert bneck(spec.stages[0].block).width_per_group == 4
    assert bneck(spec.stages[1].block).groups == 32
    convs = {leaf.scope: leaf.op for leaf in expand(spec).leaves if isinstance(leaf.op, Conv)}
    assert convs["layer1.0.conv2"].groups == 1
    assert convs["layer2.0.conv2"].groups == 32


def test_stage_override_of_an_inherited_spec(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x50_first_dense.yaml",
        """\
        extends: resnext50_32x4d
        name: x50_first_dense
        stages:
          - {depth: 3, width: 256, stride: 1, groups: 1, width_per_group: 64}
          - {depth: 4, width: 512, stride: 2}
          - {depth: 6, width: 1024, stride: 2}
          - {depth: 3, width: 2048, stride: 2}
        """,
    )
    spec = load_spec(path)
    assert [bneck(s.block).groups for s in spec.stages] == [1, 32, 32, 32]
    assert spec.source[("stages", 0, "block", "groups")].value == SourceLoc(path, 4, 47)


def test_stage_switching_block_type_does_not_inherit_the_other_types_knobs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hybrid.yaml",
        """\
        name: hybrid
        stem: {type: conv7x7}
        block: {type: bottleneck, stride_on: 1x1, groups: 8, width_per_group: 8}
        stages:
          - {depth: 2, width: 64, stride: 1, type: basic}
          - {depth: 2, width: 512, stride: 2}
        """,
    )
    spec = load_spec(path)
    assert isinstance(spec.stages[0].block, BasicParams)
    assert spec.stages[0].block.groups == 1
    assert spec.stages[1].block.type == "bottleneck"


def test_stage_override_typo_is_reported_at_the_stage_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "typo.yaml",
        "extends: resnet50\nname: typo\nstages:\n  - {depth: 3, width: 256, stride: 1, grups: 1}\n",
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.loc == SourceLoc(path, 4, 39)
    assert info.value.key_path == "stages.0.grups"
    assert "did you mean 'groups'?" in info.value.message


def test_resolved_spec_round_trips_through_spec_from_dict() -> None:
    """`show --resolved` output (stages with a nested block) validates back to the same spec."""
    from archprobe.spec import load_spec, spec_from_dict

    spec = load_spec("resnext50")
    again = spec_from_dict(spec.model_dump(mode="json"))
    assert again.model_dump() == spec.model_dump()
