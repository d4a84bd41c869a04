"""The node editor: a scene that mirrors a GraphDocument, its items, the view, and the mouse
gestures (interactions) that turn into document intents."""
