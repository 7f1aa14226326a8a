package seed

import "strings"

// Word lists behind the demo data. Names come in regional pools so that a
// user's name, phone prefix, language, company suffix and login cities agree.

type namePool struct{ first, last []string }

func pool(first, last string) namePool {
	return namePool{strings.Fields(first), strings.Fields(last)}
}

var (
	namesEnglish = pool(
		"James Olivia Liam Emma Noah Ava William Sophia Oliver Isabella Jack Mia Harry Amelia George Charlotte Thomas Emily Daniel Grace Michael Chloe Samuel Lucy Benjamin Ella Ethan Hannah Matthew Lily Ryan Sarah David Jessica Andrew Laura",
		"Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Anderson Thomas Moore Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Bennett")
	namesGerman = pool(
		"Lukas Leon Maximilian Felix Jonas Paul Elias Finn Noah Julian Tobias Sebastian Florian Stefan Markus Anna Lena Lea Hannah Marie Sophie Laura Julia Katharina Sarah Johanna Clara Lisa Sabine Nina",
		"Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann")
	namesFrench = pool(
		"Gabriel Louis Raphaël Jules Adam Lucas Hugo Arthur Nathan Théo Antoine Julien Nicolas Pierre Mathieu Emma Jade Louise Alice Chloé Léa Manon Camille Inès Sarah Juliette Margaux Élodie Claire Pauline",
		"Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet François Martinez")
	namesSpanish = pool(
		"Hugo Martín Lucas Mateo Leo Daniel Alejandro Pablo Manuel Álvaro Javier Diego Carlos Sergio Adrián Lucía Sofía Martina María Julia Paula Valeria Emma Daniela Carla Alba Sara Elena Carmen Laura",
		"García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina")
	namesItalian = pool(
		"Leonardo Francesco Alessandro Lorenzo Mattia Andrea Gabriele Riccardo Tommaso Edoardo Marco Luca Giuseppe Davide Matteo Sofia Giulia Aurora Alice Ginevra Emma Giorgia Greta Beatrice Anna Chiara Francesca Martina Sara Elisa",
		"Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti Vitale Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara Galli Martini Leone")
	namesPortuguese = pool(
		"Miguel Arthur Gael Heitor Theo Davi Gabriel Bernardo Samuel João Pedro Rafael Lucas Gustavo Tiago Helena Alice Laura Maria Valentina Heloísa Júlia Beatriz Mariana Ana Camila Larissa Fernanda Isabela Letícia",
		"Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira Nunes Marques Machado Mendes Freitas")
	namesSlavic = pool(
		"Oleksandr Andrii Dmytro Serhii Maksym Ivan Mykola Volodymyr Yurii Taras Bohdan Artem Piotr Krzysztof Tomasz Paweł Michał Olena Iryna Natalia Tetiana Oksana Yuliia Anastasiia Kateryna Anna Maria Agnieszka Katarzyna Małgorzata Zofia",
		"Melnyk Shevchenko Kovalenko Bondarenko Tkachenko Kravchenko Oliinyk Shevchuk Polishchuk Lysenko Moroz Marchenko Rudenko Savchenko Petrenko Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski")
	namesTurkish = pool(
		"Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Murat Emre Burak Can Kerem Yusuf Eren Ömer Ayşe Fatma Zeynep Elif Emine Hatice Merve Esra Büşra Selin Ecem Defne Deniz Ebru Gizem",
		"Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan Çetin Kara Koç Kurt Özkan Şimşek Polat Korkmaz Erdoğan Güneş Aksoy Bulut Keskin Ünal Tekin Acar")
	namesJapanese = pool(
		"Haruto Yuto Sota Yuki Hayato Haruki Ren Kaito Riku Takumi Daiki Kenta Shota Hiroshi Kenji Yui Hina Aoi Sakura Yuna Rin Miyu Mei Saki Ayaka Nanami Misaki Mai Yuka Emi",
		"Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Abe Ikeda Hashimoto Ishikawa Ogawa Okada Goto Hasegawa Murakami")
	namesKorean = pool(
		"Min-jun Seo-jun Do-yun Ye-jun Si-woo Ha-jun Ji-ho Jun-seo Hyun-woo Ji-hoon Seo-yeon Ha-eun Ji-woo Seo-yun Min-seo Ha-yoon Ji-min Soo-ah Yu-na Eun-ji",
		"Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Yoo Hong")
	namesChinese = pool(
		"Wei Fang Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao Xiuying Na Hui Ping Gang Hao Yu Xin Lin Bo Chen Kai Yi Zhen Lan",
		"Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo Zheng Liang Xie Song Tang Han Feng Deng Cao Peng")
	namesIndian = pool(
		"Aarav Vivaan Aditya Vihaan Arjun Sai Reyansh Krishna Ishaan Rohan Rahul Amit Vikram Sanjay Anil Ananya Diya Aadhya Saanvi Pari Anika Priya Neha Pooja Kavya Riya Shreya Divya Meera Lakshmi",
		"Sharma Verma Gupta Singh Kumar Patel Shah Mehta Iyer Nair Reddy Rao Joshi Desai Chopra Malhotra Kapoor Agarwal Banerjee Chatterjee Mukherjee Das Bose Pillai Menon Kulkarni Jain Bhat Saxena Pandey")
	namesArabic = pool(
		"Mohammed Ahmed Omar Ali Youssef Khalid Hassan Ibrahim Abdullah Hamza Tariq Karim Rami Sami Faisal Fatima Aisha Mariam Layla Noor Sara Huda Yasmin Amira Rania Salma Dina Lina Hana Zainab",
		"Al-Mansouri Al-Hashimi Al-Falasi Al-Suwaidi Al-Mazrouei Haddad Khoury Nasser Saleh Hassan Aziz Farouk Rahman Karam Mansour Qasim Darwish Bakr Issa Yousef")
)

// country ties a region's phone numbering, language, cities and legal forms together.
type country struct {
	code, name string
	weight     int
	names      *namePool
	lang       string   // preferred UI language (one of catalog.Languages)
	cc         string   // E.164 country calling code
	prefixes   []string // mobile prefixes after the calling code
	rest       int      // digits after the prefix
	cities     []string
	suffixes   []string // company legal forms
	mailDomain []string // popular local mail providers
	ibanLen    int      // fiat wallets: BBAN length (0 = use a GB IBAN)
}

var countries = []country{
	{"US", "United States", 14, &namesEnglish, "en", "1", []string{"212", "310", "415", "646", "702", "305", "512", "617", "202", "720"}, 7,
		strings.Split("New York,Los Angeles,San Francisco,Miami,Austin,Boston,Chicago,Seattle,Denver", ","), []string{"Inc.", "LLC", "Corp."}, []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com"}, 0},
	{"GB", "United Kingdom", 10, &namesEnglish, "en", "44", []string{"7700", "7911", "7400", "7500", "7800"}, 6,
		strings.Split("London,Manchester,Birmingham,Edinburgh,Bristol,Leeds,Glasgow", ","), []string{"Ltd", "LLP", "PLC"}, []string{"gmail.com", "outlook.com", "hotmail.co.uk", "btinternet.com"}, 18},
	{"DE", "Germany", 9, &namesGerman, "de", "49", []string{"151", "160", "170", "171", "176", "157"}, 8,
		strings.Split("Berlin,Munich,Hamburg,Frankfurt am Main,Cologne,Stuttgart,Düsseldorf,Leipzig", ","), []string{"GmbH", "AG", "UG"}, []string{"gmx.de", "web.de", "gmail.com", "t-online.de"}, 18},
	{"FR", "France", 6, &namesFrench, "fr", "33", []string{"6", "7"}, 8,
		strings.Split("Paris,Lyon,Marseille,Toulouse,Nice,Bordeaux,Lille,Nantes", ","), []string{"SAS", "SARL", "SA"}, []string{"orange.fr", "gmail.com", "free.fr", "laposte.net"}, 23},
	{"ES", "Spain", 5, &namesSpanish, "es", "34", []string{"6", "7"}, 8,
		strings.Split("Madrid,Barcelona,Valencia,Seville,Málaga,Bilbao,Palma", ","), []string{"S.L.", "S.A."}, []string{"gmail.com", "hotmail.es", "telefonica.net"}, 20},
	{"IT", "Italy", 4, &namesItalian, "it", "39", []string{"320", "333", "338", "347", "349"}, 7,
		strings.Split("Milan,Rome,Turin,Naples,Bologna,Florence,Verona", ","), []string{"S.r.l.", "S.p.A."}, []string{"libero.it", "gmail.com", "virgilio.it"}, 23},
	{"PT", "Portugal", 2, &namesPortuguese, "pt", "351", []string{"91", "93", "96"}, 7,
		strings.Split("Lisbon,Porto,Braga,Coimbra,Faro", ","), []string{"Lda.", "S.A."}, []string{"gmail.com", "sapo.pt"}, 21},
	{"BR", "Brazil", 5, &namesPortuguese, "pt", "55", []string{"119", "219", "319", "419", "619"}, 8,
		strings.Split("São Paulo,Rio de Janeiro,Belo Horizonte,Curitiba,Brasília,Porto Alegre", ","), []string{"Ltda.", "S.A."}, []string{"gmail.com", "hotmail.com", "uol.com.br"}, 0},
	{"UA", "Ukraine", 6, &namesSlavic, "uk", "380", []string{"50", "63", "66", "67", "68", "73", "93", "97"}, 7,
		strings.Split("Kyiv,Lviv,Kharkiv,Odesa,Dnipro,Vinnytsia", ","), []string{"LLC", "TOV"}, []string{"ukr.net", "gmail.com", "i.ua"}, 25},
	{"PL", "Poland", 4, &namesSlavic, "en", "48", []string{"50", "51", "53", "60", "66", "69", "72", "79"}, 7,
		strings.Split("Warsaw,Kraków,Wrocław,Gdańsk,Poznań,Łódź", ","), []string{"Sp. z o.o.", "S.A."}, []string{"wp.pl", "onet.pl", "gmail.com", "interia.pl"}, 24},
	{"TR", "Turkey", 4, &namesTurkish, "tr", "90", []string{"53", "54", "55"}, 8,
		strings.Split("Istanbul,Ankara,Izmir,Antalya,Bursa", ","), []string{"A.Ş.", "Ltd. Şti."}, []string{"gmail.com", "hotmail.com", "yandex.com.tr"}, 22},
	{"CY", "Cyprus", 3, &namesEnglish, "en", "357", []string{"96", "97", "99"}, 6,
		strings.Split("Limassol,Nicosia,Larnaca,Paphos", ","), []string{"Ltd"}, []string{"gmail.com", "cytanet.com.cy"}, 24},
	{"EE", "Estonia", 2, &namesSlavic, "ru", "372", []string{"5"}, 7,
		strings.Split("Tallinn,Tartu,Narva,Pärnu", ","), []string{"OÜ", "AS"}, []string{"gmail.com", "hot.ee", "mail.ee"}, 16},
	{"CH", "Switzerland", 2, &namesGerman, "de", "41", []string{"76", "77", "78", "79"}, 7,
		strings.Split("Zurich,Geneva,Basel,Zug,Lausanne,Lugano", ","), []string{"AG", "GmbH", "SA"}, []string{"bluewin.ch", "gmail.com", "gmx.ch"}, 17},
	{"AE", "United Arab Emirates", 4, &namesArabic, "en", "971", []string{"50", "52", "55", "56"}, 7,
		strings.Split("Dubai,Abu Dhabi,Sharjah", ","), []string{"FZ-LLC", "FZE", "DMCC"}, []string{"gmail.com", "outlook.com", "eim.ae"}, 19},
	{"IN", "India", 4, &namesIndian, "en", "91", []string{"98", "99", "97", "70", "80", "90"}, 8,
		strings.Split("Mumbai,Bengaluru,New Delhi,Hyderabad,Chennai,Pune", ","), []string{"Pvt. Ltd.", "LLP"}, []string{"gmail.com", "yahoo.co.in", "rediffmail.com"}, 0},
	{"SG", "Singapore", 3, &namesChinese, "zh", "65", []string{"8", "9"}, 7,
		[]string{"Singapore"}, []string{"Pte. Ltd."}, []string{"gmail.com", "singnet.com.sg"}, 0},
	{"CN", "China", 3, &namesChinese, "zh", "86", []string{"13", "15", "18"}, 9,
		strings.Split("Shanghai,Beijing,Shenzhen,Hangzhou,Guangzhou", ","), []string{"Co., Ltd."}, []string{"qq.com", "163.com", "126.com"}, 0},
	{"JP", "Japan", 3, &namesJapanese, "ja", "81", []string{"80", "90", "70"}, 8,
		strings.Split("Tokyo,Osaka,Yokohama,Fukuoka,Nagoya,Sapporo", ","), []string{"K.K.", "G.K."}, []string{"gmail.com", "yahoo.co.jp", "docomo.ne.jp"}, 0},
	{"KR", "South Korea", 2, &namesKorean, "ko", "82", []string{"10"}, 8,
		strings.Split("Seoul,Busan,Incheon,Daegu,Seongnam", ","), []string{"Co., Ltd.", "Inc."}, []string{"naver.com", "daum.net", "gmail.com"}, 0},
}

var companyWords = [3][]string{
	strings.Fields("Blue North Silver Bright Swift Prime Golden Green Red Clear Iron Stellar Polar Coral Crystal Amber Cobalt Summit Harbor Cedar Maple Falcon Orbit Nova Vertex Atlas Granite Lunar Solar Urban Alpine Pacific Atlantic Nordic Delta Sierra Apex Vector Quantum Cardinal Meridian Horizon Pioneer Liberty Sterling Evergreen Riverside Oak Lighthouse Keystone Sapphire"),
	strings.Fields("Bridge Stone Wave Field Gate River Peak Point Hill Lake Rock Path Leaf Wing Star Arrow Anchor Crown Forge Tower Vale Bay Grove Ridge Port Line Loop Shield Spark Stream Lane Works Square Fox Hawk Bear Wolf Lion Crest Haven"),
	strings.Fields("Payments Trading Capital Commerce Logistics Digital Systems Solutions Ventures Holdings Exchange Markets Retail Software Media Games Travel Consulting Labs Networks Finance Group Technologies Studio Supply Imports Energy Mobility Health Education"),
}

var (
	deviceTypes   = []string{"desktop", "desktop", "desktop", "desktop", "desktop", "mobile", "mobile", "mobile", "tablet", "api"}
	otpNames      = []string{"default", "Authenticator", "Google Authenticator", "iPhone", "Android", "1Password", "Authy", "phone"}
	walletPurpose = []string{"main", "payouts", "deposits", "treasury", "settlement", "reserve", "operations", "hot", "cold storage", "merchant"}
)
