"""Phrase lists of the question detector, as regular-expression sources.

Each pattern applies to one clause of a message, lower-cased, with curly apostrophes made
straight, at the clause's start (after greetings and fillers such as "hey," or "so"). The
detector does not know the message's language, so every list applies to every message: a
phrase goes in only if it reads as a question or a request in its own language and as
nothing common in the others.
"""

from __future__ import annotations

# English auxiliaries: "wh-word + auxiliary" and "auxiliary + subject" are the inverted word
# orders of an English question ("how do I", "is there", "can someone"). A statement almost
# never starts that way; "can confirm" or "would be nice" have no subject after the verb.
_AUX = r"(?:do|does|did|can|could|should|would|will|is|are|was|were|am|has|have|may|might|shall)"
_SUBJECT = (
    r"(?:i|you|u|ya|we|they|he|she|it|there|this|that|these|those|any|anyone|anybody|someone"
    r"|somebody|everyone|everybody|the|my|your|our|his|her|their|a|an)"
)

# "which is why", "which was exactly it": a relative clause going on, not a question.
_NOT_RELATIVE_WHICH = r"(?! (?:is|was) (?:why|exactly|what|how|also)\b)"

ENGLISH = (
    rf"(?:how|where|when|what|who|which{_NOT_RELATIVE_WHICH})"
    rf"(?:'s|'re|'d|'ll|s| {_AUX}| to| come| if)",
    r"how (?:many|much|long|often|far|big|old)",
    r"why(?= )(?! (?:i|you|we|they|he|she|not)\b)",
    rf"{_AUX} {_SUBJECT}",
    r"(?:anyone|anybody)",
    r"any (?:idea|ideas|tips?|advice|help|recommendations?|suggestions?|updates?|news|way"
    r"|thoughts|clue|pointers|chance)",
    r"(?:someone|somebody) (?:please|pls|plz|help|explain|tell me|know)",
    r"(?:i )?needs? (?:some )?help",
    r"(?:pls|plz|please) (?:help|explain|tell me|advise)",
    r"help(?: me| pls| plz| please| needed| wanted|[,:!]|$)",
    r"(?:i'?m |i )?wonder(?:ing)? (?:if|whether|how|why|what|where|when)",
    r"looking for (?:someone|somebody|help|advice|a way|people|tips)",
)

SPANISH = (
    r"(?:cómo|dónde|cuándo|cuánto|cuántos|cuántas|cuál|cuáles|quién|quiénes|por qué|porqué)",
    r"como (?:puedo|puedes|podemos|hago|hacer|se hace|se puede|instalo|configuro|cambio"
    r"|consigo|funciona|activo|pongo|hacéis|haces)",
    r"donde (?:está|esta|están|encuentro|puedo|se|hay|consigo|descargo)",
    r"(?:alguien|alguno|alguna) (?:sabe|sabría|me|puede|podría|tiene|ha|conoce|quiere|usa"
    r"|juega)",
    r"(?:hay|habrá|existe) (?:alguna|algún|algun|forma|manera|modo|posibilidad)",
    r"(?:sabéis|sabeis|saben|sabes|conocéis|conocen|conoces)",
    r"(?:me|nos) (?:podéis|podeis|puedes|pueden|podrías|podrían|ayudas|ayudáis|ayudan"
    r"|recomiendan|recomendáis|recomiendas|explicas|explicáis|dices|decís)",
    r"(?:necesito|necesitamos) (?:ayuda|una mano)",
    r"(?:ayuda(?: con| por favor| porfa|[,:!]|$)|ayúdenme|ayudadme|ayúdame|ayudame)",
    r"(?:se puede|es posible|alguna idea|tengo una (?:duda|pregunta))",
)

GERMAN = (
    r"(?:warum|wieso|weshalb|woher|wozu|wofür)",
    r"wie (?:kann|könnte|kriege|krieg|bekomme|bekommt|mache|macht|machst|geht|funktioniert"
    r"|installiere|stelle|richte|finde|komme|ändere|schaffe|soll|sollte|muss|lange|viele"
    r"|viel|oft|heißt|nennt)",
    r"wo (?:finde|kann|ist|sind|gibt|bekomme|steht|stehen|liegt|muss|soll|lade)",
    r"wann (?:beginnt|startet|kommt|ist|sind|gibt|geht|fängt|erscheint|wird)",
    r"was (?:ist|sind|bedeutet|heißt|heisst|mache|macht|kann|muss|brauche|braucht|kostet"
    r"|passiert|haltet|meint|empfehlt)",
    r"wer (?:kann|hat|weiß|weiss|ist|will|macht|organisiert|spielt)",
    # Verb first and a subject next is a German yes/no question ("hat jemand", "gibt es").
    r"(?:kann|kannst|könnt|können|könnte|hat|habt|hast|haben|ist|sind|gibt|geht|funktioniert"
    r"|klappt|muss|soll|darf|brauche|braucht|weiß|weiss|wisst|kennt|kennst|läuft|lohnt|würde"
    r"|wird|hätte|spielt|nutzt|benutzt) (?:ich|du|man|ihr|jemand|einer|es|das|der|die|dies"
    r"|wir|sie|er)",
    r"(?:kann|kannst|könnt|könnte) (?:mir|uns)",
    r"(?:brauche|brauch|bräuchte|benötige) (?:hilfe|mal hilfe|eure hilfe|dringend hilfe)",
    r"(?:hilfe(?: bei| mit| bitte|[,:!]|$)|bitte um hilfe)",
)

FRENCH = (
    r"(?:pourquoi|combien|où)",
    # "comment on" alone is also English ("comment on the PR").
    r"comment (?:je|j'|on (?:fait|peut|doit|fais|installe|met|change|a)|faire|fait|faites"
    r"|est-ce|puis|peut|peux|installer|changer|mettre|avoir|obtenir|tu|vous|ils|il"
    r"|ça marche|ca marche)",
    r"(?:quelqu'un|qqn|qq1|quelqu un)",
    r"(?:est-ce que|est ce que|est-ce qu'\w+|est ce qu'\w+|y a-t-il|y a t il|y a t-il"
    r"|il y a (?:un )?moyen|existe-t-il)",
    r"quand (?:est-ce|sort|commence|est|arrive|aura|va)",
    r"qui (?:sait|peut|veut|a déjà|connait|connaît|organise)",
    r"(?:vous|tu) (?:savez|sais|connaissez|connais|utilisez|utilises|conseillez|conseilles"
    r"|recommandez|recommandes)",
    # An inverted verb and pronoun ("peux-tu", "avez-vous") asks.
    r"[a-zàâçéèêëîïôûù]+-(?:tu|vous|il|elle|on|je)",
    r"(?:j'ai )?besoin d'(?:aide|un coup de main)",
    r"(?:aidez-moi|aide-moi|à l'aide|c'est quoi|ça marche comment)",
)

PORTUGUESE = (
    r"como (?:faço|faz|fazer|posso|consigo|eu faço|eu posso|eu consigo|se faz|instalo|mudo"
    r"|configuro|funciona|vocês|vcs|ativo|coloco)",
    r"(?:alguém|alguem)",
    r"(?:tem como|teria como|dá pra|da pra|dá para|vale a pena|é possível)",
    r"(?:existe|há) (?:alguma |algum |um |uma )?(?:forma|jeito|maneira|modo)",
    r"onde (?:eu|fica|ficam|está|estão|acho|encontro|posso|tem|baixo|consigo)",
    r"(?:qual|quais|quanto|quantos|quantas|que horas|por que|por quê)",
    r"quando (?:sai|começa|vai|é|abre|termina)",
    r"quem (?:pode|vai|quer|tem|joga|consegue)",
    r"(?:vocês|voces|vcs|você|voce|vc) (?:sabem|sabe|conhecem|conhece|usam|usa|recomendam"
    r"|recomenda|acham|acha)",
    r"(?:(?:preciso|precisamos) de (?:ajuda|uma ajuda)|me ajud(?:a|em)|socorro)",
)

DUTCH = (
    r"(?:waarom|wanneer)",
    r"hoe (?:kan|kun|moet|doe|doen|krijg|krijgen|zet|installeer|werkt|laat|maak|kom"
    r"|verander|zit|lang|veel|vaak|heet|vind)",
    r"(?:weet|kent|heeft|kan|wil|gebruikt|speelt) iemand",
    r"iemand (?:zin|die|een idee|ervaring|tips|enig idee)",
    r"waar (?:vind|kan|is|zijn|staat|staan|moet|haal|download|zit)",
    r"wat (?:is|zijn|moet|doe|betekent|gebeurt|kan|raden|gebruiken)",
    r"wie (?:kan|weet|heeft|is|doet|wil|speelt|organiseert)",
    # Dutch is verb-second: a verb first and a subject next asks ("werkt het", "kan ik").
    r"(?:kan|kun|kunnen|werkt|heeft|hebben|hebt|is|zijn|moet|mag|weet|weten|ken|doe|gaat"
    r"|wil|willen|gebruik|gebruiken|speel|speelt) (?:ik|je|jij|jullie|iemand|het|dit|dat"
    r"|er|u|we|wij|men|deze)",
    r"heb (?:je|jij|jullie)",
    r"(?:(?:ik )?heb hulp nodig|hulp nodig)",
)

SWEDISH = (
    r"(?:varför)",
    r"hur (?:gör|kan|får|installerar|fixar|ändrar|fungerar|funkar|ska|löser|startar|länge"
    r"|många|mycket|ofta|lägger|sätter)",
    r"(?:vet|kan|har|vill) någon",
    r"någon som (?:vet|kan|har|vill|spelar|kör)",
    r"var (?:hittar|finns|kan|ska|lägger)",
    r"när (?:börjar|kommer|är|släpps|startar|slutar)",
    r"vad (?:är|gör|ska|betyder|heter|händer|kostar|tycker|använder|rekommenderar)",
    # Swedish is verb-second as well ("funkar det", "kan jag").
    r"(?:kan|har|är|funkar|fungerar|finns|går|ska|måste|får|vet|behöver|brukar) (?:jag|du|ni"
    r"|man|någon|det|den|de|vi|han|hon)",
    r"(?:(?:jag )?behöver (?:lite )?hjälp|hjälp(?: med| mig| tack|[,:!]|$))",
)

DANISH = (
    r"(?:hvorfor|hvornår)",
    r"hvordan (?:gør|kan|får|installerer|laver|virker|fikser|ændrer|sætter|skal|løser"
    r"|starter)",
    r"(?:ved|kan|har|vil|kender|bruger|spiller) nogen",
    r"nogen der (?:ved|kan|har|vil|spiller|bruger)",
    # "hvor er" is left out: it is also the exclamation "hvor er det flot".
    r"hvor (?:finder|kan|henter|får|ligger|skal)",
    r"hvad (?:er|gør|skal|betyder|hedder|sker|koster|synes|bruger|anbefaler)",
    r"hvem (?:kan|ved|har|vil|er)",
    r"(?:kan|har|er|virker|findes|går|skal|må|ved|kender|bruger|behøver|gider) (?:jeg|du|i"
    r"|man|nogen|det|den|der|de|vi|han|hun)",
    r"(?:(?:har )?brug for hjælp|hjælp(?: med| mig|[,:!]|$))",
)

FINNISH = (
    r"(?:miten|kuinka|mites|miksi|miks|mistä|missä|mihin|minne|milloin|kuka|ketkä|kenellä"
    r"|kenen|monelta|paljonko|montako|kumpi)",
    # The -ko/-kö clitic makes a yes/no question of the first word ("toimiiko", "onko",
    # "tietääkö"). It follows a vowel or n in a verb; nouns ending in -kko or -lko do not.
    r"[a-zäöå]*[aeiouyäön]k[oö]",
    r"(?:onks|voiks|saaks|toimiiks|tietääks|osaaks|löytyyks|pitääks|kannattaaks)",
    r"(?:(?:tarvitsen|tarvitaan|tarttis) apua|apua)",
)

# Interrogative determiners ("which", "quel", "vilken") also open exclamations ("what a
# game", "quelle partie", "vilken match igår"). They count only when a subject pronoun or a
# finite verb of their language follows within a few words.
DETERMINERS = (
    (
        rf"(?:which{_NOT_RELATIVE_WHICH}|what)",
        r"do|does|did|is|are|was|were|can|could|should|would|will|has|have|i|you|u|we|they",
    ),
    (r"(?:qué|que|cual|cuales)", r"es|son|hay|necesito|puedo|debo|tengo|uso|usáis|usan|hago"),
    (r"welche[rnsm]?", r"ich|du|ihr|man|wir|ist|sind|brauche|braucht|nutzt|empfehlt|soll"),
    (r"quel(?:le)?s?", r"je|tu|il|on|vous|nous|est|sont|faut|dois|utilisez|conseillez"),
    (r"welke?", r"ik|je|jij|jullie|u|we|wij|is|zijn|heb|hebben|moet|kan|kun|raad|gebruik"),
    (r"vilke[nt]|vilka", r"jag|du|ni|vi|man|är|ska|behöver|har|kan|borde|använder"),
    (r"hvilke[nt]?", r"jeg|du|man|vi|er|skal|har|kan|bør|anbefaler|bruger"),
    (
        r"(?:mikä|mitkä|mitä|millainen|millä|minkä)",
        r"on|ovat|oli|olisi|tarvitaan|tarvitsen|pitää|pitäisi|kannattaa|voi|voin|saa|saan|teen"
        r"|käytät|käytätte|sä|mä|minä|sinä",
    ),
)

# Greetings and small talk that end in a question mark but expect no answer.
PHATIC = (
    r"how(?:'s| is| are| r) (?:everyone|everybody|you|ya|u|y'all|you all|it going|things"
    r"|life|your day)",
    r"how (?:are|r) (?:you|u|ya)",
    r"how you doing",
    r"(?:what'?s|whats|wats) (?:up|good|new|poppin|happening)",
    r"(?:sup|wassup|wazzup|good (?:morning|night|evening|afternoon|day))",
    r"(?:anyone|anybody) (?:awake|here|around|alive|online|on|there|home)",
    r"(?:qué|que) tal",
    r"(?:cómo|como) (?:estás|están|estáis|va|vas|andan|andas|vai|vão|anda|andam)",
    r"(?:quoi de neuf|(?:comment )?(?:ça|ca) va|comment allez-vous|comment vas-tu)",
    r"(?:tudo (?:bem|bom|certo|tranquilo)|beleza|e aí|e ai)",
    r"(?:hoe (?:gaat|is) (?:het|ie|t)|alles (?:goed|klar|oké|ok)|na,? alles klar)",
    r"(?:wie geht(?:'s| es| s)|wie läuft'?s)",
    r"(?:läget|hur (?:mår|är läget|har ni det|går det))",
    r"(?:hvordan (?:går det|har du det|har i det)|hvad så)",
    r"(?:mitä kuuluu|miten menee|mites menee|mitäs)",
)

# Rhetorical questions: disbelief, "who cares", and hype, in any of the languages.
RHETORICAL = (
    r"(?:are|r) (?:you|u|we) (?:serious|kidding|joking|sure|really|seriously|for real)",
    r"(?:you serious|for real|excuse me|really|seriously|right|wait,? what|no way)",
    r"(?:who (?:cares|asked)|why not|what the (?:hell|heck|fuck|f)|is that so)",
    r"what'?s the point(?: (?:honestly|anyway|tbh|then))?$",
    r"(?:en serio|de verdad|perdón|a quién le importa)",
    r"(?:echt jetzt|wie bitte|was soll das|ernsthaft|wen interessiert)",
    r"(?:sérieux|sérieusement|on s'en fout|on s'en fiche)",
    r"(?:sério|serio|quem liga)",
    r"(?:meen je dat|serieus|wie boeit het)",
    r"(?:på riktigt|vem bryr sig)",
    r"(?:seriøst|virkelig|hvem gider)",
    r"(?:oikeesti|ihanko|niinkö|ketä kiinnostaa)",
)

# Laughter, and the emoji of laughing, eye-rolling and face-palming: closing a question, they
# make it a joke or a sigh.
LAUGHTER = (
    r"(?:lo+l|lmf?ao+|rofl|xd+|mdr|ptdr|kek|(?:ha){2,}h?|(?:he){2,}|(?:ja){2,}|(?:je){2,}"
    r"|k{3,}|(?:rs){2,}|[😂🤣💀🙃🤦]+)"
)

# Greetings, fillers and conjunctions that may come before the question itself.
FILLER = (
    r"(?:(?:hey|heya|hi|hiya|hello|yo|ok|okay|so|also|and|but|well|hm+|um+|uh+|oh|btw"
    r"|quick question|sorry|hola|buenas|hallo|moin|servus|salut|bonjour|coucou|oi|olá|ola"
    r"|hoi|hej|hejsan|moi|moikka|terve|och|og|und|aber|mais|pero|maar|mutta)(?!\w)"
    r"(?: (?:all|everyone|guys|folks|y'all|gang|there|people|team|todos|a todos|gente"
    r"|zusammen|leute|tout le monde|pessoal|allemaal|jongens|alle|allihop|alle sammen"
    r"|kaikki)(?!\w))?[\s,!:.-]*)+"
)

# With a mention of staff or the bot, these words make the message a request for help.
REQUEST = (
    r"(?:help|can you|could you|would you|please|pls|plz|ayuda|por favor|puedes|podrías"
    r"|hilfe|bitte|kannst du|könntest du|aide|svp|s'il (?:te|vous) pla[iî]t|pourrais-tu"
    r"|pouvez-vous|ajuda|pode|podes|hulp|alsjeblieft|alstublieft|kun je|kan je|hjälp|snälla"
    r"|kan du|hjælp|apua|auttaa|voitko|voisitko)"
)
