"""The vocabulary of the synthetic chain's text: ENS names, text records, token URIs.

A hand-written list of common English words (plus a few non-ASCII ones, as real ENS names and
profiles have), ordered roughly from most to least popular: words are drawn with a Zipf law over
this order, so the text index sees realistic term frequencies. All words are lowercase and
contain no separators, so every word is one token for a Unicode-aware tokenizer.
"""

from __future__ import annotations

__all__ = ["WORDS"]

_TEXT = """
gold moon sun star fire water earth wind stone iron silver light dark night day dream
king queen lord lady prince knight hero ghost angel devil dragon tiger lion wolf bear eagle
falcon hawk raven crow fox cat dog horse shark whale dolphin snake spider monkey panda koala
apple banana cherry lemon mango orange peach grape melon berry honey sugar salt pepper bread
red blue green black white purple pink yellow brown grey crimson violet amber azure ivory
coin token chain block vault bank money cash gem jewel crystal diamond pearl ruby emerald
crypto ether bitcoin satoshi wallet ledger hash node miner stake yield swap pool farm
meta verse pixel punk ape bored cool lucky happy crazy wild free brave smart rich fast
alpha beta gamma delta omega sigma zeta theta kappa lambda nova astro cosmic galaxy planet
river ocean lake sea island mountain valley forest desert jungle garden field meadow canyon
city town village street road bridge tower castle palace temple church house home room
north south east west winter summer spring autumn storm rain snow cloud thunder frost mist
time space future past world life death love hate peace war power magic spirit soul mind
art music song dance poem story book page letter word name sign mark code data byte bit
robot cyber neon laser rocket engine motor machine circuit signal radio video camera screen
game play win lose score level quest loot boss raid guild clan team club crew gang squad
one two three four five six seven eight nine ten zero hundred thousand million billion first
big small tiny giant great grand mega ultra super hyper prime royal noble true pure bright
blood bone heart skull eye hand face head tooth wing tail claw horn shell feather scale
coffee tea wine beer milk juice pizza burger taco sushi noodle cookie cake candy donut
ninja samurai pirate viking wizard witch monk sage oracle prophet hunter ranger warrior
doctor teacher farmer builder maker trader dealer banker writer artist player runner rider
studio labs capital ventures digital global network protocol finance market exchange fund
open smart secure simple quick clean fresh solid liquid frozen golden wooden electric silent
atlas titan zeus apollo athena hermes ares poseidon hades thor odin loki freya mars venus
jupiter saturn mercury pluto luna sol terra aqua ignis ventus umbra lux nox aura echo
tokyo paris london berlin rome madrid dubai miami vegas boston seoul lagos lima cairo oslo
alice bob carol dave eve frank grace heidi ivan judy mallory oscar peggy trent victor walter
flower rose lily tulip daisy lotus orchid ivy oak pine maple cedar willow bamboo palm fern
glass paper plastic steel copper bronze marble cotton silk velvet leather rubber carbon
circle square triangle cube sphere spiral arrow cross ring loop wave line point edge corner
zen yoga karma chi qi feng tao dojo sensei kung bushido shogun ronin kami yokai oni
rebel rogue outlaw bandit thief spy agent ghostly phantom shadow specter wraith zombie
vampire werewolf goblin troll orc elf dwarf giantess fairy pixie nymph siren mermaid
chess poker dice card ace joker jack spade diamondz clover heartz bingo lotto jackpot
anchor compass map globe harbor port ship boat sail captain sailor admiral navy fleet
sky air breeze gale tornado hurricane volcano lava magma quake tsunami flood drought
baby kid boy girl man woman mother father sister brother family friend lover rival enemy
hello world welcome thanks please sorry goodbye yes no maybe always never forever again
build create launch mint burn send receive hold buy sell trade bridge vote govern claim
crypto punks doodles azuki moonbird kitty bunny puppy kitten cub foal chick duckling
cafe über señor niño straße façade naïve café crème déjà jalapeño piñata
東京 大阪 龍 猫 月 星 서울 사랑 москва звезда
"""

WORDS: tuple[str, ...] = tuple(dict.fromkeys(_TEXT.split()))
"""The vocabulary, most popular first, without duplicates."""
