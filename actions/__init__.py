"""The action server: thin Rasa SDK classes, one module per capability."""
from bot.server_setup import set_up_action_server

set_up_action_server()
