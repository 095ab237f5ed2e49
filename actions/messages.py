"""What the guided flows say, on the web and on the phone line (Quebec French, "vous").

The call centre's number comes from the contact file (`bot.contact`), written `CALL_CENTRE` here.

The static answers of the guide live in domain.yml; these are the flows' own sentences, said only by
custom actions (so they are here rather than domain responses no story or rule would use).
"""
from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import directory, is_phone

CALL_CENTRE = "{call_centre}"


@dataclass(frozen=True)
class Message:
    """A sentence for the web (markdown allowed) and, when it differs, for the phone line."""

    web: str
    spoken: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()

    def text(self, spoken: bool) -> str:
        """The text for the channel, with the call centre's number from the contact file."""
        text = self.spoken if spoken and self.spoken is not None else self.web
        return text.replace(CALL_CENTRE, directory().call_centre.spoken)

    def send(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Say it on the conversation's channel."""
        spoken = is_phone(tracker)
        buttons = [] if spoken else [{"title": title, "payload": payload} for title, payload in self.buttons]
        dispatcher.utter_message(text=self.text(spoken), buttons=buttons)


# --- Guided forms ---
ASK_CARD_DIGITS = Message(
    "Quels sont les six (6) derniers chiffres de votre Carte Accès Terrebonne? "
    "Vous pouvez écrire « annuler » à tout moment.",
    "Dites, ou tapez sur le clavier, les six derniers chiffres de votre Carte Accès Terrebonne.",
)
ASK_DATE_OR_PHONE = Message(
    "Merci. Maintenant, au choix : votre date de naissance (par exemple : 21 juin 1980) "
    "OU votre numéro de téléphone de la maison (par exemple : 450 555-0100).",
    "Merci. Maintenant, dites votre date de naissance, ou votre numéro de téléphone de la maison, au choix.",
)
ASK_EMAIL = Message(
    "Je peux aussi vérifier votre compte : quelle adresse courriel avez-vous utilisée pour le créer? "
    "Vous pouvez écrire « annuler » pour arrêter.",
    "Je peux aussi vérifier votre compte : quelle adresse courriel avez-vous utilisée pour le créer? "
    "Dites-la lentement, par exemple : prénom point nom, arobase, exemple point com.",
)
FLOW_STOPPED = Message("D'accord, on arrête là. Avez-vous une autre question sur les inscriptions en ligne?")
TOO_MANY_FAILURES = Message(
    "Je n'arrive pas à lire cette information. Une personne du centre d'appels peut vous aider :",
    "Je n'arrive pas à comprendre cette information. Une personne du centre d'appels peut vous aider.",
)
