"""The action server: thin Rasa SDK classes, one module per capability."""
from bot.backend.factory import check_backend
from bot.server_setup import set_up_action_server

set_up_action_server()
check_backend()  # a wrong BOT_BACKEND stops the action server at start, with the reason in its log
