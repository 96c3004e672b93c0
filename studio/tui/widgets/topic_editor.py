"""The topic tree editor: every tree of the library in one Tree widget, edited node by node.

Each tree file is edited through ``studio.library.saver.TopicTreeDocument``: add, rename,
move, describe and delete change the round-trip document in memory (comments on untouched
nodes survive) and Ctrl+S writes the changed files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static, Tree

from studio.tui.widgets.leaving import confirm_leave

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.widgets.tree import TreeNode

    from studio.library import Library, TopicNode, TopicTree
    from studio.library.saver import TopicTreeDocument
    from studio.tui.app import StudioApp


class TopicTreeView(Tree[str]):
    """Topic trees; node data is the topic path (a tree's root holds its id)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "topic('add')", "Add child", id="topic.add"),
        Binding("r", "topic('rename')", "Rename", id="topic.rename"),
        Binding("m", "topic('move')", "Move", id="topic.move"),
        Binding("d", "topic('delete')", "Delete", id="topic.delete"),
        Binding("e", "topic('describe')", "Describe", show=False, id="topic.describe"),
        Binding("g", "topic('suggest')", "Suggest", id="topic.suggest"),
        Binding("j", "cursor_down", "Down", show=False, id="topic.down"),
        Binding("k", "cursor_up", "Up", show=False, id="topic.up"),
    ]

    def action_topic(self, action: str) -> None:
        self.query_ancestor(TopicEditor).apply_action(action)


class TopicEditor(Horizontal):
    """All topic trees, with add/rename/move/delete on the highlighted node."""

    dirty: reactive[bool] = reactive(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.documents: dict[str, TopicTreeDocument] = {}
        self.changed: set[str] = set()
        self.trees: dict[str, TopicTree] = {}
        self.last_model = "offline/default"

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="lib-main"):
            yield Static(
                "a add · r rename · m move · d delete · e describe · g suggest · ctrl+s save",
                id="topic-hint",
                classes="file-title",
            )
            yield TopicTreeView("Topic trees", id="topic-tree")
        with Vertical(classes="lib-side-right"):
            yield Static("", id="topic-detail")

    def on_mount(self) -> None:
        tree = self.query_one(TopicTreeView)
        tree.show_root = False
        self.watch(self.app, "library", self._library_changed)

    def _library_changed(self, library: Library | None) -> None:
        if library is None:
            return
        for topic_tree in library.topic_trees:
            if topic_tree.id not in self.changed:
                self.trees[topic_tree.id] = topic_tree
                self.documents.pop(topic_tree.id, None)
        self.rebuild()

    # -- showing -------------------------------------------------------------------------------

    def rebuild(self, select: str | None = None) -> None:
        view = self.query_one(TopicTreeView)
        current = select or (view.cursor_node.data if view.cursor_node else None)
        expanded = {n.data for n in self._all_nodes(view.root) if n.is_expanded}
        view.clear()
        for tree_id, topic_tree in self.trees.items():
            mark = " ●" if tree_id in self.changed else ""
            root = view.root.add(
                f"[b]{topic_tree.name}[/b] [dim]{tree_id}{mark}[/]", data=tree_id, expand=False
            )
            self._add_nodes(root, topic_tree.roots, tree_id)
            if tree_id in expanded or (current or "").split("/", 1)[0] == tree_id:
                root.expand()
        for node in self._all_nodes(view.root):
            if node.data in expanded:
                node.expand()
        if current is not None:
            self._select(current)
        self.dirty = bool(self.changed)

    def _add_nodes(self, parent: TreeNode[str], nodes: tuple[TopicNode, ...], prefix: str) -> None:
        for node in nodes:
            path = f"{prefix}/{node.key}"
            if node.children:
                child = parent.add(node.title, data=path)
                self._add_nodes(child, node.children, path)
            else:
                parent.add_leaf(node.title, data=path)

    def _all_nodes(self, node: TreeNode[str]) -> list[TreeNode[str]]:
        found = []
        for child in node.children:
            found.append(child)
            found.extend(self._all_nodes(child))
        return found

    def _select(self, path: str) -> None:
        view = self.query_one(TopicTreeView)
        parts = path.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            for node in self._all_nodes(view.root):
                if node.data == prefix:
                    node.expand()
        # A node's line is known only after the tree has laid out its (new) nodes.
        self.call_after_refresh(self._move_cursor_to, path)

    def _move_cursor_to(self, path: str) -> None:
        view = self.query_one(TopicTreeView)
        for node in self._all_nodes(view.root):
            if node.data == path:
                view.move_cursor(node)
                view.scroll_to_node(node, animate=False)
                return

    @on(Tree.NodeHighlighted, "#topic-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        path = event.node.data or ""
        self.query_one("#topic-detail", Static).update(self._describe(path))

    def _describe(self, path: str) -> str:
        tree_id = path.split("/", 1)[0]
        topic_tree = self.trees.get(tree_id)
        if topic_tree is None:
            return ""
        if "/" not in path:
            count = sum(1 for _ in topic_tree.walk())
            source = topic_tree.source.name if topic_tree.source else ""
            return (
                f"[b]{topic_tree.name}[/b]\n{tree_id} · {topic_tree.language} · {source}\n\n"
                f"{topic_tree.description}\n\n{count} topics"
            )
        topic = topic_tree.find(path)
        if topic is None:
            return path
        lines = [f"[b]{topic.title}[/b]", f"[dim]{topic.path}[/]", ""]
        if topic.description:
            lines += [topic.description, ""]
        if topic.children:
            lines.append(f"{len(topic.children)} subtopics")
        else:
            lines.append("a lesson (leaf): prompts are rendered for it")
        return "\n".join(lines)

    # -- editing -------------------------------------------------------------------------------

    def cursor_path(self) -> str | None:
        node = self.query_one(TopicTreeView).cursor_node
        return node.data if node is not None else None

    def document(self, tree_id: str) -> TopicTreeDocument:
        from studio.library.saver import TopicTreeDocument

        if tree_id not in self.documents:
            source = self.trees[tree_id].source
            assert source is not None
            self.documents[tree_id] = TopicTreeDocument(source)
        return self.documents[tree_id]

    def edit(self, tree_id: str, change: Any) -> None:
        """Apply ``change(document) -> path to select`` and show the result (or the error)."""
        from studio.library import LibraryFileError

        doc = self.document(tree_id)
        try:
            selected = change(doc)
        except (LibraryFileError, KeyError, ValueError) as exc:
            message = str(exc).strip("'\"")
            if isinstance(exc, LibraryFileError):
                message = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            self.notify(message, title="topic: not changed", severity="error")
            return
        self.trees[tree_id] = doc.tree
        self.changed.add(tree_id)
        self.rebuild(select=selected)

    def apply_action(self, action: str) -> None:
        from studio.tui.screens.dialogs import PickScreen, TextPromptScreen

        path = self.cursor_path()
        if path is None:
            return
        tree_id = path.split("/", 1)[0]
        is_root = "/" not in path
        if action == "suggest":
            self.ask_for_suggestions(tree_id, None if is_root else path)
        elif action == "add":
            where = "the top level" if is_root else path

            def add(title: str | None) -> None:
                if title:
                    self.edit(tree_id, lambda doc: doc.add(None if is_root else path, title))

            self.app.push_screen(TextPromptScreen(f"New topic under {where}"), add)
        elif is_root:
            self.notify("Pick a topic, not the tree itself.", title=f"topic: {action}")
        elif action == "rename":
            topic = self.trees[tree_id].find(path)

            def rename(title: str | None) -> None:
                if title:
                    self.edit(tree_id, lambda doc: doc.rename(path, title))

            title = topic.title if topic else ""
            self.app.push_screen(TextPromptScreen(f"Rename {path}", title), rename)
        elif action == "describe":
            topic = self.trees[tree_id].find(path)

            def describe(text: str | None) -> None:
                if text is not None:
                    self.edit(tree_id, lambda doc: (doc.describe(path, text), path)[1])

            description = topic.description if topic else ""
            self.app.push_screen(TextPromptScreen(f"Describe {path}", description), describe)
        elif action == "delete":
            from studio.tui.screens.dialogs import ConfirmScreen

            parent = path.rsplit("/", 1)[0]

            def delete(choice: str | None) -> None:
                if choice == "delete":
                    self.edit(tree_id, lambda doc: (doc.delete(path), parent)[1])

            question = f"Delete {path} and everything under it?"
            self.app.push_screen(
                ConfirmScreen(question, [("delete", "Delete"), ("cancel", "Keep")]), delete
            )
        elif action == "move":
            targets = [(tree_id, f"{self.trees[tree_id].name} (top level)")]
            for topic in self.trees[tree_id].walk():
                inside = topic.path == path or topic.path.startswith(path + "/")
                if not inside and topic.path != path.rsplit("/", 1)[0]:
                    targets.append((topic.path, "  " * (topic.depth - 1) + topic.title))

            def move(target: str | None) -> None:
                if target:
                    new_parent = None if target == tree_id else target
                    self.edit(tree_id, lambda doc: doc.move(path, new_parent))

            self.app.push_screen(PickScreen(f"Move {path} under…", targets), move)

    # -- suggestions ---------------------------------------------------------------------------

    def ask_for_suggestions(self, tree_id: str, path: str | None) -> None:
        from studio.tui.screens.dialogs import TextPromptScreen

        def chosen(model: str | None) -> None:
            if model:
                self.last_model = model
                self.notify(f"Asking {model}…", title="topic: suggest")
                self.suggest(model, tree_id, path)

        where = path or tree_id
        self.app.push_screen(
            TextPromptScreen(f"Suggest subtopics under {where}: which model?", self.last_model),
            chosen,
        )

    @work(exclusive=True, group="topic-suggest", exit_on_error=False)
    async def suggest(self, model: str, tree_id: str, path: str | None) -> None:
        from studio.tui.screens.dialogs import PickManyScreen
        from studio.tui.suggestions import suggest_subtopics

        tree = self.trees[tree_id]
        topic = tree.find(path) if path else None
        try:
            titles = await suggest_subtopics(model, tree, topic)
        except Exception as exc:  # the model's failure is the user's news, not a crash
            self.notify(f"{type(exc).__name__}: {exc}", title="topic: suggest", severity="error")
            return
        if not titles:
            self.notify("The model proposed nothing usable.", title="topic: suggest")
            return
        kept = await self.app.push_screen_wait(
            PickManyScreen(f"Subtopics {model} proposes under {path or tree_id}", titles)
        )
        for title in kept or []:
            self.edit(tree_id, lambda doc, title=title: doc.add(path, title))

    # -- saving --------------------------------------------------------------------------------

    def save(self) -> bool:
        from studio.library import LibraryFileError

        saved = []
        for tree_id in sorted(self.changed):
            try:
                self.document(tree_id).save()
            except LibraryFileError as exc:
                self.notify(str(exc), title=f"topics: {tree_id} not saved", severity="error")
                return False
            saved.append(tree_id)
        self.changed.clear()
        self.rebuild()
        if saved:
            self.notify(f"Saved {', '.join(saved)}", title="topics: save")
            self.studio.reload_library()
        return True

    def leave_then(self, proceed: Any) -> None:
        confirm_leave(self, self.dirty, "The topic trees", self.save, proceed)
